/// A count condition: every bound must hold.
public struct CountCondition: Sendable, Equatable {
    public enum Bound: String, Sendable, CaseIterable {
        case gt, gte, lt, lte, eq
    }

    public var bounds: [Bound: Int]

    init(_ map: [String: Any]) throws(SigmaError) {
        guard !map.isEmpty else { throw SigmaError("the condition has no bound (gt, gte, lt, lte or eq)") }
        self.bounds = [:]
        for (key, value) in map {
            guard let bound = Bound(rawValue: key) else {
                throw SigmaError("condition '\(key)' is not supported (use gt, gte, lt, lte, eq)")
            }
            guard let number = value as? Int ?? (value as? String).flatMap(Int.init) else {
                throw SigmaError("condition \(key) needs a whole number")
            }
            self.bounds[bound] = number
        }
    }

    public func holds(_ count: Int) -> Bool {
        self.bounds.allSatisfy { bound, value in
            switch bound {
            case .gt: count > value
            case .gte: count >= value
            case .lt: count < value
            case .lte: count <= value
            case .eq: count == value
            }
        }
    }

    /// True when only lower bounds are set: once it holds, more matches keep it holding, so a window can stop.
    var onlyLowerBounds: Bool { self.bounds.keys.allSatisfy { $0 == .gt || $0 == .gte } }
}

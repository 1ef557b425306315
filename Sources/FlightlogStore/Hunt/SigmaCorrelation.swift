/// A Sigma correlation rule (Sigma specification 2.0, "Sigma Correlation Rules"): it relates the matches of other
/// rules, named by their `name` or `id`, within a `timespan`, per value of its `group-by` fields.
///
/// Supported: the four types `event_count`, `value_count` (with `condition.field`), `temporal` and
/// `temporal_ordered`; conditions `gt`, `gte`, `lt`, `lte`, `eq` (several are ANDed); `aliases`; `generate`;
/// correlations of correlations. Windows are anchored at the earliest match not yet part of a hit and reach
/// `timespan` forward from it: every set of matches that satisfies the rule within `timespan` is found, and no
/// match is reported in two hits of one rule.
public struct SigmaCorrelation: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case eventCount = "event_count"
        case valueCount = "value_count"
        case temporal
        case temporalOrdered = "temporal_ordered"
    }

    public var kind: Kind
    /// The correlated rules, by `name` or `id`.
    public var rules: [String]
    /// Matches correlate only when these fields have the same values (no field: one group for everything).
    public var groupBy: [String]
    public var timespanNanos: Int64
    /// For the counting types, when a window counts; for the temporal types, how many of the rules must match
    /// (nil: all of them).
    public var condition: CountCondition?
    /// The field whose distinct values `value_count` counts.
    public var valueField: String?
    /// `alias → (rule reference → field)`: a `group-by` alias stands for another field in that rule's events.
    public var aliases: [String: [String: String]]
    /// Whether the correlated rules are also run on their own (Sigma's default: not).
    public var generate: Bool
    /// Keys of the section this implementation does not know, which are therefore ignored (said under the rule).
    public var ignoredKeys: [String]

    static let knownKeys: Set<String> = ["type", "rules", "group-by", "timespan", "condition", "aliases", "generate"]

    /// Reads the `correlation` section of a rule document.
    init(_ section: [String: Any], generate: Bool) throws(SigmaError) {
        guard let typeName = section["type"] as? String else { throw SigmaError("correlation has no type") }
        guard let kind = Kind(rawValue: typeName) else {
            throw SigmaError(
                "correlation type '\(typeName)' is not supported (supported: "
                    + Kind.allCases.map(\.rawValue).joined(separator: ", ") + ")"
            )
        }
        self.kind = kind
        self.ignoredKeys = section.keys.filter { !Self.knownKeys.contains($0) }.sorted()
        if let one = section["rules"] as? String {
            self.rules = [one]
        } else if let list = section["rules"] as? [Any], !list.isEmpty, list.allSatisfy({ $0 is String }) {
            self.rules = list.compactMap { $0 as? String }
        } else {
            throw SigmaError("correlation needs 'rules', a list of rule names or ids")
        }
        if let one = section["group-by"] as? String {
            self.groupBy = [one]
        } else if let list = section["group-by"] as? [Any] {
            guard list.allSatisfy({ $0 is String }) else { throw SigmaError("group-by lists field names") }
            self.groupBy = list.compactMap { $0 as? String }
        } else {
            self.groupBy = []
        }
        guard let span = section["timespan"].map({ "\($0)" }), let nanos = Self.timespanNanos(span) else {
            throw SigmaError("correlation needs 'timespan' as a number and s, m, h or d (for example 1h)")
        }
        self.timespanNanos = nanos
        self.generate = generate
        self.aliases = [:]
        if let aliases = section["aliases"] as? [String: Any] {
            for (alias, value) in aliases {
                guard let map = value as? [String: Any], map.values.allSatisfy({ $0 is String }) else {
                    throw SigmaError("alias '\(alias)' must map rule names to field names")
                }
                self.aliases[alias] = map.compactMapValues { $0 as? String }
            }
        }
        self.valueField = nil
        if let map = section["condition"] as? [String: Any] {
            var bounds = map
            if let field = bounds.removeValue(forKey: "field") {
                guard let name = field as? String else { throw SigmaError("condition.field must be a field name") }
                self.valueField = name
            }
            self.condition = try CountCondition(bounds)
        } else if section["condition"] != nil {
            throw SigmaError("correlation condition must be a map such as {gte: 10}")
        } else {
            self.condition = nil
        }
        switch kind {
        case .eventCount where self.condition == nil, .valueCount where self.condition == nil:
            throw SigmaError("\(kind.rawValue) needs a condition such as {gte: 10}")
        case .valueCount where self.valueField == nil:
            throw SigmaError("value_count needs condition.field, the field whose distinct values are counted")
        case .temporalOrdered where self.condition != nil:
            throw SigmaError("a condition on temporal_ordered is not supported: every rule must match, in order")
        default: break
        }
        for field in self.groupBy + (self.valueField.map { [$0] } ?? []) where self.aliases[field] == nil {
            guard SigmaRule.columns[field.lowercased()] != nil || FieldCondition.isValidFieldName(field) else {
                throw SigmaError("'\(field)' is not a field name that can be looked up")
            }
        }
    }

    /// `30s`, `5m`, `1h`, `7d` in nanoseconds, or nil.
    static func timespanNanos(_ text: String) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0 else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3_600
        case "d": seconds = 86_400
        default: return nil
        }
        let (nanos, overflow) = number.multipliedReportingOverflow(by: seconds * 1_000_000_000)
        return overflow ? nil : nanos
    }

    /// The field to read from the events of the rule referenced as `reference` for `field` of this correlation.
    func field(_ field: String, in reference: String, also other: String?) -> String {
        guard let alias = self.aliases[field] else { return field }
        return alias[reference] ?? other.flatMap { alias[$0] } ?? field
    }

    /// Whether every referenced rule must match for a hit (which lets a search narrow the later ones).
    var needsEveryRule: Bool {
        switch self.kind {
        case .temporalOrdered: true
        case .temporal: self.condition == nil || self.condition?.holds(self.rules.count - 1) == false
        case .eventCount, .valueCount: false
        }
    }
}

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

/// One match fed into a correlation: an event (start = end), or the hit of another correlation.
struct CorrelationInput: Sendable {
    var start: Int64
    var end: Int64
    /// The group-by values, one per group-by field of the correlation being evaluated.
    var key: [String]
    /// `value_count`'s field value.
    var value: String?
    /// Which of the correlation's rules it matched (index into `rules`).
    var rule: Int
    var eventIDs: [Int64]
}

/// What a correlation rule found: the matches of one group that satisfy it within the timespan.
public struct CorrelationHit: Sendable, Equatable {
    /// (field, value) for each group-by field.
    public var group: [GroupValue]
    public var start: Int64
    public var end: Int64
    /// How many matches of the correlated rules the hit holds.
    public var matches: Int
    /// The events behind it, ascending.
    public var eventIDs: [Int64]

    public struct GroupValue: Sendable, Equatable {
        public var field: String
        public var value: String

        public init(field: String, value: String) {
            self.field = field
            self.value = value
        }
    }
}

extension SigmaCorrelation {
    /// Evaluates this correlation over its inputs (any order), hits sorted by start.
    func hits(_ inputs: [CorrelationInput]) -> [CorrelationHit] {
        var groups: [[String]: [CorrelationInput]] = [:]
        for input in inputs {
            if self.kind == .valueCount, input.value == nil { continue }
            groups[input.key, default: []].append(input)
        }
        var hits: [CorrelationHit] = []
        for (key, var members) in groups {
            members.sort { ($0.start, $0.end, $0.eventIDs.first ?? 0) < ($1.start, $1.end, $1.eventIDs.first ?? 0) }
            let found: [ArraySlice<CorrelationInput>] =
                self.kind == .temporalOrdered ? self.orderedChains(members) : self.windows(members)
            for window in found {
                let ids = Array(Set(window.flatMap(\.eventIDs))).sorted()
                hits.append(
                    CorrelationHit(
                        group: zip(self.groupBy, key).map { CorrelationHit.GroupValue(field: $0, value: $1) },
                        start: window.map(\.start).min() ?? 0,
                        end: window.map(\.end).max() ?? 0,
                        matches: window.count,
                        eventIDs: ids
                    )
                )
            }
        }
        return hits.sorted { ($0.start, $0.eventIDs.first ?? 0) < ($1.start, $1.eventIDs.first ?? 0) }
    }

    /// `event_count`, `value_count` and `temporal`: a window from each not yet used match, `timespan` long; it is
    /// a hit when its count (events, distinct values or distinct rules) satisfies the condition. With lower
    /// bounds only, a window ends as soon as it does.
    private func windows(_ members: [CorrelationInput]) -> [ArraySlice<CorrelationInput>] {
        var found: [ArraySlice<CorrelationInput>] = []
        let needed = self.condition
        let stopEarly = needed?.onlyLowerBounds ?? true
        var tally: [String: Int] = [:]
        func name(_ input: CorrelationInput) -> String {
            switch self.kind {
            case .valueCount: input.value ?? ""
            case .temporal, .temporalOrdered: String(input.rule)
            case .eventCount: ""
            }
        }
        func count(_ events: Int) -> Int { self.kind == .eventCount ? events : tally.count }
        func satisfied(_ events: Int) -> Bool {
            if let needed { return needed.holds(count(events)) }
            return tally.count == self.rules.count
        }
        var start = 0
        var end = 0
        while start < members.count {
            let limit = members[start].start.addingReportingOverflow(self.timespanNanos)
            let last = limit.overflow ? Int64.max : limit.partialValue
            var hit = stopEarly && end > start && satisfied(end - start)
            while !hit, end < members.count, members[end].start <= last {
                tally[name(members[end]), default: 0] += 1
                end += 1
                if stopEarly, satisfied(end - start) { hit = true }
            }
            if !stopEarly { hit = satisfied(end - start) }
            if hit {
                found.append(members[start..<end])
                start = end
                tally.removeAll(keepingCapacity: true)
            } else {
                let key = name(members[start])
                if let left = tally[key] { tally[key] = left > 1 ? left - 1 : nil }
                start += 1
                end = max(end, start)
            }
        }
        return found
    }

    /// `temporal_ordered`: from each match of the first rule not yet used, the earliest match of the second rule
    /// at or after it, then of the third…, all within `timespan` of the first. The hit holds those matches and
    /// any other matches of the first rule in between (a second reset before the login, say).
    private func orderedChains(_ members: [CorrelationInput]) -> [ArraySlice<CorrelationInput>] {
        var byRule = [[Int]](repeating: [], count: self.rules.count)
        for (index, member) in members.enumerated() where member.rule < byRule.count {
            byRule[member.rule].append(index)
        }
        var found: [ArraySlice<CorrelationInput>] = []
        var usedThrough = Int64.min
        var anchorIndex = 0
        while anchorIndex < byRule[0].count {
            let anchor = members[byRule[0][anchorIndex]]
            anchorIndex += 1
            guard anchor.start > usedThrough else { continue }
            let limit = anchor.start.addingReportingOverflow(self.timespanNanos)
            let last = limit.overflow ? Int64.max : limit.partialValue
            var chain = [anchor]
            var after = anchor.end
            for rule in 1..<max(1, self.rules.count) {
                let positions = byRule[rule]
                var low = 0
                var high = positions.count
                while low < high {
                    let middle = (low + high) / 2
                    if members[positions[middle]].start < after { low = middle + 1 } else { high = middle }
                }
                // The same event can match two of the rules; it cannot play both parts.
                while low < positions.count, members[positions[low]].eventIDs == chain.last?.eventIDs { low += 1 }
                guard low < positions.count, members[positions[low]].start <= last else { break }
                chain.append(members[positions[low]])
                after = members[positions[low]].end
            }
            guard chain.count == self.rules.count else { continue }
            let through = chain.last?.start ?? anchor.start
            var between: [CorrelationInput] = []
            var next = anchorIndex
            while next < byRule[0].count, members[byRule[0][next]].start <= through {
                between.append(members[byRule[0][next]])
                next += 1
            }
            found.append((chain + between)[...])
            usedThrough = through
        }
        return found
    }
}

/// Why the aggregator could not do something.
public enum AggregatorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The store failed; the batch was not stored and will be resent.
    case storage(String)
    /// The aggregator is shutting down.
    case shuttingDown
    /// The listen address could not be bound.
    case cannotListen(String)

    public var description: String {
        switch self {
        case .storage(let message): "storage failure: \(message)"
        case .shuttingDown: "the aggregator is shutting down"
        case .cannotListen(let message): "cannot listen: \(message)"
        }
    }
}

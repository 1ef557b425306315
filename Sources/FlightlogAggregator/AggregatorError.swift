/// Why the aggregator could not do something.
public enum AggregatorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The store failed; the batch was not stored and will be resent.
    case storage(String)
    /// Batch `sequence` was not stored because batch `after`, sent before it on the same session, was not: a session's
    /// batches are stored in the order they arrived or not at all (PROTOCOL.md §7.4 rule 4). Resent, it is stored.
    case heldBack(sequence: UInt64, after: UInt64)
    /// The aggregator is shutting down.
    case shuttingDown
    /// The listen address could not be bound.
    case cannotListen(String)

    public var description: String {
        switch self {
        case .storage(let message): "storage failure: \(message)"
        case .heldBack(let sequence, let after):
            "batch \(sequence) not stored: batch \(after), sent before it on this session, was not"
        case .shuttingDown: "the aggregator is shutting down"
        case .cannotListen(let message): "cannot listen: \(message)"
        }
    }
}

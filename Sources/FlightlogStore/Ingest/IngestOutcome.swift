import FlightlogEvidence
public import FlightlogWire

/// What the store did with one batch.
public enum IngestOutcome: Equatable, Sendable {
    /// Stored now, in the committed transaction.
    case stored
    /// Already stored earlier with the same hash; nothing written.
    case duplicate
    /// Refused, with the protocol error to send (equivocation, chain broken). A finding was recorded.
    case refused(ErrorCode, String)
    /// Not stored, and no finding: batch `after` of the same chain came earlier in the same transaction and was
    /// refused, and a chain's batches are stored in the order they arrived or not at all (PROTOCOL.md §7.4 rule 4).
    case heldBack(after: UInt64)
}

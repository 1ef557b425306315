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
}

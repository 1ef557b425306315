import FlightlogWire

/// WELCOME named a batch the aggregator holds: waiting for the hash of the agent's own batch at that sequence
/// before the spool is trimmed and shipping starts (PROTOCOL.md §7.3 rule 1).
struct ResumingState: Equatable, Sendable {
    /// The session as it starts once resumed; nothing is in flight yet.
    var session: StreamingState
    /// WELCOME's last sequence: the aggregator holds it and everything before it.
    let lastSequence: UInt64
    /// WELCOME's hash of that batch.
    let lastBatchHash: Bytes32
    /// The spooled batches to delete as stored once resumed: through `lastSequence`, or through the batch before one
    /// the aggregator said it did not store (``ShipperStateMachine/Configuration/resendFrom``); 0 for none.
    let deleteThrough: UInt64
}

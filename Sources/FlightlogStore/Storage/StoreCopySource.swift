public import FlightlogWire

/// What `flightlog copy-store` reads from a store to rebuild it in another engine: the agents with every key they
/// held, the stored batches as they arrived, and what ingest alone cannot derive again (the findings about batches
/// that were refused, and the signed checkpoints).
public protocol StoreCopySource: Sendable {
    /// Every agent, with its keys (enrolled, re-enrolled, rotated), oldest key first.
    func copiedAgents() async throws(StoreError) -> [CopiedAgent]

    /// Up to `limit` stored batches with an id above `afterID`, in id order (the order they were stored in, which
    /// is the order of the transparency log's leaves).
    func copiedBatches(afterID: Int64, limit: Int) async throws(StoreError) -> [CopiedBatch]

    /// The findings about batches that were not stored (equivocations, broken links, refused batches) and about
    /// enrolment, with the agent's name: ingesting the stored batches again cannot find these.
    func copiedFindings() async throws(StoreError) -> [(agent: String?, finding: ChainFinding)]
}

/// An agent as `copy-store` carries it over.
public struct CopiedAgent: Sendable, Equatable {
    public var record: AgentRecord
    public var keys: [Key]

    /// One key the agent held, and when.
    public struct Key: Sendable, Equatable {
        public var publicKey: Bytes32
        public var keyID: Bytes32
        public var fromNanos: Int64
        public var untilNanos: Int64?
        /// `enrolled`, `reenrolled` or `rotated`.
        public var how: String
    }
}

/// A stored batch as it arrived.
public struct CopiedBatch: Sendable {
    public var id: Int64
    public var agent: String
    public var envelope: [UInt8]
    public var receivedNanos: Int64
}

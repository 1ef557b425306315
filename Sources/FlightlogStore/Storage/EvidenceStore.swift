public import FlightlogWire

/// What the aggregator needs from storage; sized so that a PostgreSQL implementation can stand in for SQLite
/// without touching the server.
public protocol EvidenceStore: Sendable {
    /// The enrolled agent with this public key, revoked or not; nil when unknown.
    func agent(publicKey: Bytes32) async throws -> AgentRecord?

    /// The last batch held for (agent, epoch), or nil.
    func chainHead(agentID: Int64, epoch: UInt64) async throws -> ChainLink.Head?

    /// Stores the items in one durable transaction (group commit) and says what happened to each, in order.
    ///
    /// Returns only after the transaction is committed to disk: an outcome of `.stored` or `.duplicate` may be
    /// acknowledged to the agent. Inside the transaction, before the chain checks, a batch received at or after its
    /// agent's revocation is refused (`revokedAgent`) and recorded as a `rejectedBatch` finding, so that a
    /// revocation also ends sessions opened before it.
    func ingest(_ items: [IngestItem]) async throws -> [IngestOutcome]

    /// Records a handshake attempt (accepted or refused) and, when accepted, the agent's last-seen time and skew.
    func recordHandshake(_ record: HandshakeRecord) async throws

    /// Records a finding outside ingestion (for example a batch refused for a bad signature).
    func recordFinding(_ finding: ChainFinding) async throws

    /// Updates an agent's last-seen time (heartbeats).
    func touchAgent(id: Int64, atNanos: Int64) async throws

    /// Enrols `publicKey` with a one-time token (PROTOCOL.md §4.10): the token's use, the agent and the audit record
    /// commit together, or nothing does and the refusal says why.
    func redeem(
        token: String,
        publicKey: Bytes32,
        peer: String,
        atNanos: Int64
    ) async throws -> Result<
        AgentRecord, EnrolmentRefusal
    >

    /// Hands an agent's chain over to a new key (PROTOCOL.md §4.12) and returns the agent with its new key.
    func rotate(_ record: RotationRecord, atNanos: Int64) async throws -> Result<AgentRecord, RotationRefusal>

    /// The agent that holds or held `publicKey`, and until when (nil: it still does).
    func keyHolder(publicKey: Bytes32) async throws -> (name: String, untilNanos: Int64?)?

    /// Keeps secondary indexes (the full-text index) up with committed events, and does whatever other background
    /// work the store's commits leave (SQLite's WAL checkpoints), until the task is cancelled, calling `report` as
    /// the indexes progress. A store that indexes inside the commit returns at once.
    func maintainIndexes(report: @escaping @Sendable (FullTextProgress) -> Void) async throws
}

extension EvidenceStore {
    /// Indexes inside the commit: nothing to maintain.
    public func maintainIndexes(report: @escaping @Sendable (FullTextProgress) -> Void) async throws {}
}

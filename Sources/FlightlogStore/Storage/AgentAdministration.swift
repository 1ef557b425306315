public import FlightlogWire

/// What operators do to the set of enrolled agents: enrolment (by key or by token), revocation, and listing them
/// with their chains, findings, tokens and rotations.
public protocol AgentAdministration: Sendable {
    /// Enrols a key (standard base64 of the 32 raw bytes) under `name`.
    @discardableResult
    func enroll(name: String, publicKeyBase64: String, atNanos: Int64) async throws(StoreError) -> AgentRecord

    /// Revokes the agent named `name`: its handshakes and batches are refused from `atNanos` on.
    func revoke(name: String, atNanos: Int64) async throws(StoreError)

    /// Every agent with its chains' figures, for `flightlog agents`.
    func agentSummaries() async throws(StoreError) -> [AgentSummary]

    /// Each agent's last line and whether it was stopped, by agent id (agents with no events are absent).
    func agentActivity() async throws(StoreError) -> [Int64: AgentActivity]

    /// The findings recorded at ingest, of one agent or of all.
    func findings(agentID: Int64?) async throws(StoreError) -> [ChainFinding]

    /// Stored batches, events and full-text rows.
    func counts() async throws(StoreError) -> (batches: Int, events: Int, fullText: Int)

    /// Issues a one-time enrolment token for `name` (PROTOCOL.md §4.10); the secret is returned once, never stored.
    func issueToken(
        name: String,
        expiresNanos: Int64,
        reenroll: Bool,
        who: String,
        atNanos: Int64
    ) async throws(StoreError) -> (id: Int64, token: String)

    /// Revokes the unused tokens of `name`, or the token `id`; returns how many.
    func revokeTokens(name: String?, id: Int64?, who: String, atNanos: Int64) async throws(StoreError) -> Int

    /// Every token issued, without its secret.
    func tokens() async throws(StoreError) -> [EnrolmentToken]

    /// Every stored key rotation, oldest first.
    func rotations() async throws(StoreError) -> [(agent: String, record: RotationRecord, receivedNanos: Int64)]
}

extension AgentAdministration {
    public func findings() async throws(StoreError) -> [ChainFinding] { try await self.findings(agentID: nil) }
}

public import FlightlogWire

/// An enrolled agent as the aggregator knows it.
public struct AgentRecord: Equatable, Sendable {
    public var id: Int64
    public var name: String
    /// The raw 32-byte Ed25519 public key.
    public var publicKey: Bytes32
    /// SHA-256 of the public key, as batches name it.
    public var keyID: Bytes32
    public var enrolledNanos: Int64
    public var revokedNanos: Int64?
    public var lastSeenNanos: Int64?
    /// Agent clock minus aggregator clock at the last handshake.
    public var lastSkewNanos: Int64?
    public var lastAddress: String?

    /// The key fingerprint shown to operators: `sha256:` and the first 16 hex digits of the key id.
    public var fingerprint: String { "sha256:" + String(self.keyID.hex.prefix(16)) }

    public init(
        id: Int64,
        name: String,
        publicKey: Bytes32,
        keyID: Bytes32,
        enrolledNanos: Int64,
        revokedNanos: Int64? = nil,
        lastSeenNanos: Int64? = nil,
        lastSkewNanos: Int64? = nil,
        lastAddress: String? = nil
    ) {
        self.id = id
        self.name = name
        self.publicKey = publicKey
        self.keyID = keyID
        self.enrolledNanos = enrolledNanos
        self.revokedNanos = revokedNanos
        self.lastSeenNanos = lastSeenNanos
        self.lastSkewNanos = lastSkewNanos
        self.lastAddress = lastAddress
    }
}

/// An agent with what the store holds for it, for `flightlog agents`.
public struct AgentSummary: Equatable, Sendable {
    public var agent: AgentRecord
    public var currentEpoch: UInt64?
    public var lastSequence: UInt64?
    public var epochs: Int
    public var batches: Int64
    public var events: Int64
    public var gaps: Int
    public var equivocations: Int
    public var openFindings: Int
}

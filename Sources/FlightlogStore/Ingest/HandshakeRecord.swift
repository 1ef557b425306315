import FlightlogEvidence
public import FlightlogWire

/// One handshake attempt, accepted or not, for the record.
public struct HandshakeRecord: Sendable {
    public var atNanos: Int64
    public var peer: String
    public var publicKey: Bytes32?
    public var agentID: Int64?
    public var agentName: String?
    public var epoch: UInt64?
    public var skewNanos: Int64?
    /// `accepted`, or the error code name.
    public var outcome: String

    public init(
        atNanos: Int64,
        peer: String,
        publicKey: Bytes32?,
        agentID: Int64?,
        agentName: String?,
        epoch: UInt64?,
        skewNanos: Int64?,
        outcome: String
    ) {
        self.atNanos = atNanos
        self.peer = peer
        self.publicKey = publicKey
        self.agentID = agentID
        self.agentName = agentName
        self.epoch = epoch
        self.skewNanos = skewNanos
        self.outcome = outcome
    }
}

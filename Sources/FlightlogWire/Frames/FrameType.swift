/// The type byte that follows every frame's length (PROTOCOL.md §3).
public enum FrameType: UInt8, CaseIterable, Sendable {
    /// Agent → aggregator: magic, version, public key, epoch, clock and name. Opens every session.
    case hello = 0x01
    /// Aggregator → agent: the selected version, a fresh nonce and the aggregator's clock.
    case challenge = 0x02
    /// Agent → aggregator: Ed25519 signature proving possession of the key named in `HELLO`.
    case proof = 0x03
    /// Aggregator → agent: the resume point of the agent's chain, the window and the heartbeat interval.
    case welcome = 0x04
    /// Agent → aggregator: one signed batch envelope.
    case batch = 0x10
    /// Aggregator → agent: one batch is durably stored.
    case ack = 0x11
    /// Either direction: liveness, the sender's clock and (from agents) counters.
    case heartbeat = 0x20
    /// Either direction: a typed, fatal error; the sender closes the connection after it.
    case error = 0x30
    /// Either direction: an orderly close.
    case goodbye = 0x31
    /// Agent → aggregator, protocol version 2, in place of `PROOF`: a one-time enrolment token and a signature
    /// proving possession of the key named in `HELLO`.
    case enroll = 0x05
    /// Aggregator → agent, version 2: the key is enrolled under this name; `WELCOME` follows.
    case enrolled = 0x06
    /// Agent → aggregator, version 2, in place of `PROOF`: hands the chain over from the key in `HELLO` to a new
    /// key, signed by both.
    case rotate = 0x07
    /// Aggregator → agent, version 2: the rotation is stored; `WELCOME` for the new key's epoch follows.
    case rotated = 0x08
}

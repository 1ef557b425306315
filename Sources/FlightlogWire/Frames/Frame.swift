public import NIOCore

/// One protocol frame, decoded (PROTOCOL.md §3–4).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 length (u32, big-endian) = 1 + N              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     type      |           body (N bytes) ...                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public enum Frame: Equatable, Sendable {
    case hello(Hello)
    case challenge(Challenge)
    case proof(Proof)
    case welcome(Welcome)
    /// The body is a signed batch envelope; it is parsed by ``SignedBatch/init(bytes:)`` so that a bad batch
    /// is reported as `malformedBatch`, not as a framing error.
    case batch(ByteBuffer)
    case ack(Ack)
    case heartbeat(Heartbeat)
    case error(ErrorMessage)
    case goodbye(Goodbye)
    case enroll(Enroll)
    case enrolled(Enrolled)
    case rotate(RotationRecord)
    case rotated(Rotated)

    /// The frame's type byte.
    public var type: FrameType {
        switch self {
        case .hello: .hello
        case .challenge: .challenge
        case .proof: .proof
        case .welcome: .welcome
        case .batch: .batch
        case .ack: .ack
        case .heartbeat: .heartbeat
        case .error: .error
        case .goodbye: .goodbye
        case .enroll: .enroll
        case .enrolled: .enrolled
        case .rotate: .rotate
        case .rotated: .rotated
        }
    }
}

// MARK: - Messages

/// `HELLO` (0x01), agent → aggregator.
///
/// ```
/// offset size field
///  0      4   magic "FLOG" (46 4C 4F 47)
///  4      2   protocol version (u16)
///  6     32   agent Ed25519 public key
/// 38      8   chain epoch (u64)
/// 46      8   agent clock, ns since the Unix epoch (i64)
/// 54      1   name length n (u8)
/// 55      n   agent name, UTF-8
/// ```
public struct Hello: Equatable, Sendable {
    /// The four bytes every `HELLO` starts with.
    public static let magic: [UInt8] = Array("FLOG".utf8)

    public var version: UInt16
    public var publicKey: Bytes32
    public var epoch: UInt64
    public var agentTimeNanos: Int64
    public var agentName: String

    public init(
        version: UInt16 = ProtocolVersion.current,
        publicKey: Bytes32,
        epoch: UInt64,
        agentTimeNanos: Int64,
        agentName: String
    ) {
        self.version = version
        self.publicKey = publicKey
        self.epoch = epoch
        self.agentTimeNanos = agentTimeNanos
        self.agentName = agentName
    }
}

/// `CHALLENGE` (0x02), aggregator → agent.
///
/// ```
/// offset size field
///  0      2   selected protocol version (u16)
///  2     32   nonce (random, fresh per connection)
/// 34      8   aggregator clock, ns since the Unix epoch (i64)
/// ```
public struct Challenge: Equatable, Sendable {
    public var version: UInt16
    public var nonce: Bytes32
    public var aggregatorTimeNanos: Int64

    public init(version: UInt16 = ProtocolVersion.current, nonce: Bytes32, aggregatorTimeNanos: Int64) {
        self.version = version
        self.nonce = nonce
        self.aggregatorTimeNanos = aggregatorTimeNanos
    }
}

/// `PROOF` (0x03), agent → aggregator: an Ed25519 signature over ``Handshake/proofMessage(nonce:publicKey:epoch:)``.
///
/// ```
/// offset size field
///  0     64   signature
/// ```
public struct Proof: Equatable, Sendable {
    public var signature: [UInt8]

    public init(signature: [UInt8]) {
        self.signature = signature
    }
}

/// `WELCOME` (0x04), aggregator → agent: the session is open and this is where the chain stands.
///
/// ```
/// offset size field
///  0      8   epoch (u64): HELLO's, or the new one after a rotation (§4.12)
///  8      8   last sequence stored for (agent, epoch) (u64; 0 = none)
/// 16     32   hash of that batch (zero when none)
/// 48      2   window: most unacknowledged batches allowed (u16)
/// 50      2   heartbeat interval in seconds (u16)
/// 52      8   aggregator clock, ns since the Unix epoch (i64)
/// ```
public struct Welcome: Equatable, Sendable {
    public var epoch: UInt64
    public var lastSequence: UInt64
    public var lastBatchHash: Bytes32
    public var window: UInt16
    public var heartbeatIntervalSeconds: UInt16
    public var aggregatorTimeNanos: Int64

    public init(
        epoch: UInt64,
        lastSequence: UInt64,
        lastBatchHash: Bytes32,
        window: UInt16,
        heartbeatIntervalSeconds: UInt16,
        aggregatorTimeNanos: Int64
    ) {
        self.epoch = epoch
        self.lastSequence = lastSequence
        self.lastBatchHash = lastBatchHash
        self.window = window
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.aggregatorTimeNanos = aggregatorTimeNanos
    }
}

/// `ACK` (0x11), aggregator → agent: the batch is in a committed transaction.
///
/// ```
/// offset size field
///  0      8   epoch (u64)
///  8      8   sequence (u64)
/// 16     32   batch hash (SHA-256 of the whole envelope)
/// 48      1   status: 0 = stored now, 1 = was already stored (duplicate)
/// ```
public struct Ack: Equatable, Sendable {
    /// Whether this ack stored the batch or found it already stored.
    public enum Status: UInt8, Sendable, CaseIterable {
        case stored = 0
        case duplicate = 1
    }

    public var epoch: UInt64
    public var sequence: UInt64
    public var batchHash: Bytes32
    public var status: Status

    public init(epoch: UInt64, sequence: UInt64, batchHash: Bytes32, status: Status) {
        self.epoch = epoch
        self.sequence = sequence
        self.batchHash = batchHash
        self.status = status
    }
}

/// `HEARTBEAT` (0x20), either direction.
///
/// ```
/// offset size field
///  0      8   sender clock, ns since the Unix epoch (i64)
///  8      1   counter count c (u8, ≤ 64)
///  9      …   c × { name length (u8, ≤ 64), name (UTF-8), value (u64) }
/// ```
public struct Heartbeat: Equatable, Sendable {
    /// One named counter.
    public struct Counter: Equatable, Sendable {
        public var name: String
        public var value: UInt64

        public init(name: String, value: UInt64) {
            self.name = name
            self.value = value
        }
    }

    public var timeNanos: Int64
    public var counters: [Counter]

    public init(timeNanos: Int64, counters: [Counter] = []) {
        self.timeNanos = timeNanos
        self.counters = counters
    }
}

/// `ERROR` (0x30), either direction; fatal for the connection.
///
/// ```
/// offset size field
///  0      2   error code (u16), see ErrorCode
///  2      8   sequence the error concerns (u64; 0 = none)
/// 10      2   message length m (u16, ≤ 1024)
/// 12      m   message, UTF-8, for humans
/// ```
public struct ErrorMessage: Equatable, Sendable {
    /// The code as sent. Unknown codes are kept so that newer peers can be logged faithfully.
    public var rawCode: UInt16
    public var sequence: UInt64
    public var message: String

    /// The code, when this implementation knows it.
    public var code: ErrorCode? { ErrorCode(rawValue: self.rawCode) }

    public init(code: ErrorCode, sequence: UInt64 = 0, message: String) {
        self.rawCode = code.rawValue
        self.sequence = sequence
        self.message = message.truncatedToUTF8Length(WireLimits.maxMessageLength)
    }

    init(rawCode: UInt16, sequence: UInt64, message: String) {
        self.rawCode = rawCode
        self.sequence = sequence
        self.message = message
    }
}

/// `GOODBYE` (0x31), either direction: an orderly close.
///
/// ```
/// offset size field
///  0      2   message length m (u16, ≤ 1024)
///  2      m   reason, UTF-8, for humans
/// ```
public struct Goodbye: Equatable, Sendable {
    public var message: String

    public init(message: String) {
        self.message = message.truncatedToUTF8Length(WireLimits.maxMessageLength)
    }
}

/// Protocol versions.
public enum ProtocolVersion {
    /// The highest version this implementation speaks: 2 adds enrolment by token and key rotation (PROTOCOL.md
    /// §4.10–4.13); everything of version 1 is unchanged, and version-1 peers are served.
    public static let current: UInt16 = 2
    /// The first version, still spoken.
    public static let first: UInt16 = 1
}

/// `ENROLL` (0x05), agent → aggregator, protocol version 2, in place of `PROOF` (PROTOCOL.md §4.10).
///
/// ```
/// offset size field
///  0      1   token length t (u8, 1 … 64)
///  1      t   token, ASCII
///  1+t   64   Ed25519 signature over the enrolment message (Handshake.enrolmentMessage)
/// ```
public struct Enroll: Equatable, Sendable {
    public var token: String
    public var signature: [UInt8]

    public init(token: String, signature: [UInt8]) {
        self.token = token
        self.signature = signature
    }
}

/// `ENROLLED` (0x06), aggregator → agent: the key of `HELLO` is enrolled under `agentName` (PROTOCOL.md §4.11).
///
/// ```
/// offset size field
///  0      1   name length n (u8)
///  1      n   agent name, UTF-8
/// ```
public struct Enrolled: Equatable, Sendable {
    public var agentName: String

    public init(agentName: String) {
        self.agentName = agentName
    }
}

/// `ROTATED` (0x08), aggregator → agent: the rotation is stored (PROTOCOL.md §4.13).
///
/// ```
/// offset size field
///  0     32   new public key
/// 32      8   new epoch (u64)
/// ```
public struct Rotated: Equatable, Sendable {
    public var newPublicKey: Bytes32
    public var newEpoch: UInt64

    public init(newPublicKey: Bytes32, newEpoch: UInt64) {
        self.newPublicKey = newPublicKey
        self.newEpoch = newEpoch
    }
}

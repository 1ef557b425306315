/// The error codes carried by `ERROR` frames (PROTOCOL.md §4.8).
///
/// Every code is fatal for the connection: the sender closes after writing the frame.
public enum ErrorCode: UInt16, CaseIterable, Sendable {
    /// A frame could not be decoded (bad length, truncated body, unknown type, trailing bytes).
    case malformedFrame = 1
    /// `HELLO` did not start with the magic `FLOG`.
    case badMagic = 2
    /// The aggregator does not speak the requested protocol version.
    case unsupportedVersion = 3
    /// The agent's public key is not enrolled.
    case unknownAgent = 4
    /// The agent's key was revoked.
    case revokedAgent = 5
    /// The `PROOF` signature does not verify against the key in `HELLO`.
    case badProof = 6
    /// A frame arrived that is not allowed in the session's current state.
    case unexpectedFrame = 7
    /// A frame's length field exceeds the maximum frame length.
    case frameTooLarge = 8
    /// A batch's signature does not verify against the session's key.
    case badSignature = 9
    /// A batch envelope or its payload is malformed or exceeds a limit.
    case malformedBatch = 10
    /// A batch does not link to the previous batch the aggregator holds for its sequence.
    case chainBroken = 11
    /// A batch reuses a stored sequence number with different content.
    case equivocation = 12
    /// The agent sent more unacknowledged batches than the window allows.
    case windowExceeded = 13
    /// The peer was silent past its deadline.
    case timeout = 14
    /// The aggregator is at its connection limit; retry later.
    case serverBusy = 15
    /// The aggregator could not store the batch; retry later.
    case storageFailure = 16
    /// The aggregator is shutting down; retry later.
    case shuttingDown = 17
    /// A batch names an agent key other than the session's.
    case keyMismatch = 18
    /// A batch belongs to an epoch other than the one announced in `HELLO`.
    case wrongEpoch = 19
    /// An unexpected internal failure on the sending side.
    case internalError = 20
    /// The aggregator requires TLS and the agent spoke plaintext (PROTOCOL.md §2): sent in plaintext, before
    /// anything else, by an aggregator that tells the two apart by the first byte.
    case tlsRequired = 21
    /// The agent started TLS and the aggregator runs without it (`--insecure-plaintext`): sent in plaintext, which
    /// the agent's TLS layer reports as an answer that is not TLS.
    case tlsNotEnabled = 22
    /// The enrolment token is unknown, expired, already used or revoked (the message says which), or names an
    /// agent already enrolled with another key.
    case badToken = 23
    /// Too many failed enrolment attempts from this address; retry later.
    case rateLimited = 24
    /// The rotation does not hold: a signature, the old chain's head, or a new key already in use (the message
    /// says which).
    case rotationRefused = 25

    /// Whether an agent should reconnect later after receiving this code (as opposed to needing an operator).
    public var isRetryable: Bool {
        switch self {
        case .timeout, .serverBusy, .storageFailure, .shuttingDown, .internalError, .windowExceeded, .malformedFrame,
            .unexpectedFrame, .rateLimited:
            return true
        case .badMagic, .unsupportedVersion, .unknownAgent, .revokedAgent, .badProof, .frameTooLarge, .badSignature,
            .malformedBatch, .chainBroken, .equivocation, .keyMismatch, .wrongEpoch, .tlsRequired, .tlsNotEnabled,
            .badToken, .rotationRefused:
            return false
        }
    }
}

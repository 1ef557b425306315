import Crypto
import NIOCore

/// The chain and time fields of a batch that its builder chooses.
public struct BatchHeader: Equatable, Sendable {
    public var keyID: Bytes32
    public var epoch: UInt64
    public var sequence: UInt64
    public var previousHash: Bytes32
    public var createdNanos: Int64
    public var firstEventNanos: Int64
    public var lastEventNanos: Int64

    public init(
        keyID: Bytes32,
        epoch: UInt64,
        sequence: UInt64,
        previousHash: Bytes32,
        createdNanos: Int64,
        firstEventNanos: Int64,
        lastEventNanos: Int64
    ) {
        self.keyID = keyID
        self.epoch = epoch
        self.sequence = sequence
        self.previousHash = previousHash
        self.createdNanos = createdNanos
        self.firstEventNanos = firstEventNanos
        self.lastEventNanos = lastEventNanos
    }

    /// A header whose time range is taken from `events` (which must not be empty).
    public init(
        keyID: Bytes32,
        epoch: UInt64,
        sequence: UInt64,
        previousHash: Bytes32,
        createdNanos: Int64,
        events: [Event]
    ) {
        var first = Int64.max
        var last = Int64.min
        for event in events {
            first = min(first, event.timeNanos)
            last = max(last, event.timeNanos)
        }
        if events.isEmpty {
            first = 0
            last = 0
        }
        self.init(
            keyID: keyID,
            epoch: epoch,
            sequence: sequence,
            previousHash: previousHash,
            createdNanos: createdNanos,
            firstEventNanos: first,
            lastEventNanos: last
        )
    }
}

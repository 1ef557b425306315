import Crypto
public import FlightlogWire

/// What the aggregator's transparency log commits to for one accepted batch.
///
/// The leaf data (hashed as `SHA-256(0x00 ‖ data)`, RFC 6962 §2.1) is canonical, 106 bytes, big-endian:
///
/// ```
/// offset size field
///   0     18  "FLIGHTLOG-LEAF-V1" and one zero byte (domain separation from every other hash in Flightlog)
///  18     32  agent key id: SHA-256 of the agent's raw Ed25519 public key, as the batch names it
///  50      8  epoch (u64)
///  58      8  sequence (u64)
///  66      8  received, ns since the Unix epoch (i64): when the aggregator accepted the batch
///  74     32  batch hash: SHA-256 of the whole signed envelope
/// ```
///
/// The batch hash alone already covers key id, epoch and sequence; they are repeated so that a leaf says on its
/// own whose batch it is (an inclusion proof in an export bundle is readable without the envelope). The receive
/// time is bound because "was the key enrolled and unrevoked when this arrived" depends on it, and the envelope
/// does not carry it.
public struct TransparencyLeaf: Equatable, Sendable {
    /// Domain-separation prefix of the leaf data.
    public static let context: [UInt8] = Array("FLIGHTLOG-LEAF-V1".utf8) + [0]

    public var keyID: Bytes32
    public var epoch: UInt64
    public var sequence: UInt64
    public var receivedNanos: Int64
    public var batchHash: Bytes32

    public init(keyID: Bytes32, epoch: UInt64, sequence: UInt64, receivedNanos: Int64, batchHash: Bytes32) {
        self.keyID = keyID
        self.epoch = epoch
        self.sequence = sequence
        self.receivedNanos = receivedNanos
        self.batchHash = batchHash
    }

    /// The canonical leaf data.
    public var data: [UInt8] {
        var out = Self.context
        out.reserveCapacity(106)
        out += self.keyID.bytes
        Self.appendBigEndian(self.epoch, to: &out)
        Self.appendBigEndian(self.sequence, to: &out)
        Self.appendBigEndian(UInt64(bitPattern: self.receivedNanos), to: &out)
        out += self.batchHash.bytes
        return out
    }

    /// `SHA-256(0x00 ‖ data)`.
    public var hash: Bytes32 { MerkleTree.leafHash(self.data) }

    private static func appendBigEndian(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}

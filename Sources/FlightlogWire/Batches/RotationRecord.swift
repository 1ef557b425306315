public import Crypto
import NIOCore

/// A hand-over of an agent's chain from one key to the next (PROTOCOL.md §4.12): the body of `ROTATE`, and the
/// record the aggregator stores as evidence and evidence bundles carry, so that `verify` accepts the new key's
/// chain as the continuation of the old one, not as a finding.
///
/// ```
/// offset size field
///   0    32   old public key (the one enrolled, named in HELLO)
///  32     8   old epoch (u64)
///  40     8   old head sequence: the last batch of the old epoch (u64; 0 when it has none)
///  48    32   old head hash (the zero hash when it has none)
///  80    32   new public key
/// 112     8   new epoch (u64): the chain the new key starts at sequence 1
/// 120     8   time of the rotation, agent clock (i64 ns)
/// 128    64   Ed25519 signature by the old key over the rotation message
/// 192    64   Ed25519 signature by the new key over the rotation message
/// ```
///
/// The rotation message is `"FLIGHTLOG-ROTATION-V1" ‖ 0x00 ‖ bytes 0 ..< 128`: both keys sign the same hand-over,
/// so neither can be named in one without its holder's consent.
public struct RotationRecord: Equatable, Hashable, Sendable {
    public var oldPublicKey: Bytes32
    public var oldEpoch: UInt64
    public var oldHeadSequence: UInt64
    public var oldHeadHash: Bytes32
    public var newPublicKey: Bytes32
    public var newEpoch: UInt64
    public var timeNanos: Int64
    public var oldSignature: [UInt8]
    public var newSignature: [UInt8]

    /// Length of the encoded record.
    public static let length = 256
    /// Domain-separation context of the two signatures.
    public static let context: [UInt8] = Array("FLIGHTLOG-ROTATION-V1".utf8) + [0]

    public init(
        oldPublicKey: Bytes32,
        oldEpoch: UInt64,
        oldHeadSequence: UInt64,
        oldHeadHash: Bytes32,
        newPublicKey: Bytes32,
        newEpoch: UInt64,
        timeNanos: Int64,
        oldSignature: [UInt8] = [],
        newSignature: [UInt8] = []
    ) {
        self.oldPublicKey = oldPublicKey
        self.oldEpoch = oldEpoch
        self.oldHeadSequence = oldHeadSequence
        self.oldHeadHash = oldHeadHash
        self.newPublicKey = newPublicKey
        self.newEpoch = newEpoch
        self.timeNanos = timeNanos
        self.oldSignature = oldSignature
        self.newSignature = newSignature
    }

    /// The 128 bytes both keys sign after the context.
    public var fields: [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeBytes(self.oldPublicKey.bytes)
        buffer.writeInteger(self.oldEpoch, endianness: .big)
        buffer.writeInteger(self.oldHeadSequence, endianness: .big)
        buffer.writeBytes(self.oldHeadHash.bytes)
        buffer.writeBytes(self.newPublicKey.bytes)
        buffer.writeInteger(self.newEpoch, endianness: .big)
        buffer.writeInteger(self.timeNanos, endianness: .big)
        return Array(buffer.readableBytesView)
    }

    /// What each key signs.
    public var message: [UInt8] { Self.context + self.fields }

    /// The 256 bytes of the record, signatures included.
    public var bytes: [UInt8] { self.fields + self.oldSignature + self.newSignature }

    /// Parses the 256 bytes of a record (a `ROTATE` body, or a stored record).
    public init(bytes: some Collection<UInt8>) throws(WireError) {
        var buffer = ByteBuffer(bytes: Array(bytes))
        try self.init(buffer: &buffer)
        guard buffer.readableBytes == 0 else {
            throw WireError.trailingBytes(what: "rotation record", count: buffer.readableBytes)
        }
    }

    init(buffer: inout ByteBuffer) throws(WireError) {
        self.oldPublicKey = try buffer.readWire32("ROTATE old public key")
        self.oldEpoch = try buffer.readWireInteger("ROTATE old epoch")
        self.oldHeadSequence = try buffer.readWireInteger("ROTATE old head sequence")
        self.oldHeadHash = try buffer.readWire32("ROTATE old head hash")
        self.newPublicKey = try buffer.readWire32("ROTATE new public key")
        self.newEpoch = try buffer.readWireInteger("ROTATE new epoch")
        self.timeNanos = try buffer.readWireInteger("ROTATE time")
        self.oldSignature = try buffer.readWireBytes(64, "ROTATE old key's signature")
        self.newSignature = try buffer.readWireBytes(64, "ROTATE new key's signature")
    }

    /// Signs the record with both keys.
    public mutating func sign(old: Curve25519.Signing.PrivateKey, new: Curve25519.Signing.PrivateKey) throws {
        let message = self.message
        self.oldSignature = Array(try old.signature(for: message))
        self.newSignature = Array(try new.signature(for: message))
    }

    /// Nil when both signatures verify under the keys the record names (PROTOCOL.md §1.1 included), else why not.
    public var signatureProblem: String? {
        let message = self.message
        guard let old = try? Ed25519.publicKey(self.oldPublicKey.bytes) else {
            return "the old key is not a key Flightlog accepts"
        }
        guard let new = try? Ed25519.publicKey(self.newPublicKey.bytes) else {
            return
                "the new key is not a key Flightlog accepts (\(Ed25519.defect(publicKey: self.newPublicKey.bytes).map { "\($0)" } ?? "not a curve point"))"
        }
        guard Ed25519.isValidSignature(self.oldSignature, for: message, publicKey: old) else {
            return "the old key's signature does not verify"
        }
        guard Ed25519.isValidSignature(self.newSignature, for: message, publicKey: new) else {
            return "the new key's signature does not verify"
        }
        guard self.oldPublicKey != self.newPublicKey else { return "the new key is the old key" }
        return nil
    }
}

extension Handshake {
    /// Domain-separation context of the enrolment signature.
    public static let enrolmentContext: [UInt8] = Array("FLIGHTLOG-ENROLL-V2".utf8) + [0]

    /// `context ‖ nonce (32) ‖ public key (32) ‖ epoch (u64) ‖ SHA-256(token) (32)`: 124 bytes, what `ENROLL` signs
    /// (PROTOCOL.md §4.10). The token's hash, not the token: the signed message may be logged.
    public static func enrolmentMessage(nonce: Bytes32, publicKey: Bytes32, epoch: UInt64, token: String) -> [UInt8] {
        var message = Self.enrolmentContext
        message += nonce.bytes
        message += publicKey.bytes
        withUnsafeBytes(of: epoch.bigEndian) { message += $0 }
        message += Array(SHA256.hash(data: Array(token.utf8)))
        return message
    }
}

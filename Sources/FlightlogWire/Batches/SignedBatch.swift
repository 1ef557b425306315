public import Crypto
public import NIOCore

/// A signed, chained batch envelope exactly as it travels and is stored (PROTOCOL.md §5).
///
/// ```
/// offset   size field
///   0        4  magic "FLB1" (46 4C 42 31)
///   4        1  format version (u8) = 1
///   5        1  codec (u8): 1 = zlib (RFC 1950)
///   6        2  flags (u16) = 0
///   8       32  agent key id: SHA-256 of the agent's raw Ed25519 public key
///  40        8  epoch (u64)
///  48        8  sequence (u64, ≥ 1)
///  56       32  previous batch hash (zero for sequence 1)
///  88        8  created, ns since the Unix epoch (i64)
///  96        8  first (smallest) event time, ns (i64)
/// 104        8  last (largest) event time, ns (i64)
/// 112        4  event count (u32, 1 … 65536)
/// 116        4  uncompressed payload length (u32, ≤ 4 MiB)
/// 120        4  compressed payload length N (u32, ≤ 4 MiB)
/// 124        N  compressed payload
/// 124+N     64  Ed25519 signature over "FLIGHTLOG-BATCH-V1\0" ‖ bytes 0 ..< 124+N
/// ```
///
/// The batch hash is SHA-256 over all 188+N bytes, signature included.
public struct SignedBatch: Equatable, Sendable {
    /// The four bytes every batch starts with.
    public static let magic: [UInt8] = Array("FLB1".utf8)
    /// The batch format version this implementation writes and reads.
    public static let formatVersion: UInt8 = 1
    /// Size of the fixed header before the payload.
    public static let headerLength = 124
    /// Size of the Ed25519 signature that ends the envelope.
    public static let signatureLength = 64
    /// Domain-separation context prepended to the signed bytes: ASCII `FLIGHTLOG-BATCH-V1` and one zero byte.
    public static let signatureContext: [UInt8] = Array("FLIGHTLOG-BATCH-V1".utf8) + [0]

    /// Payload codecs.
    public enum Codec: UInt8, Sendable, CaseIterable {
        /// zlib (RFC 1950), one complete stream.
        case zlib = 1
    }

    public let codec: Codec
    public let keyID: Bytes32
    public let epoch: UInt64
    public let sequence: UInt64
    public let previousHash: Bytes32
    public let createdNanos: Int64
    public let firstEventNanos: Int64
    public let lastEventNanos: Int64
    public let eventCount: Int
    public let uncompressedLength: Int
    /// The whole envelope, signature included.
    public let bytes: [UInt8]

    /// SHA-256 of ``bytes``.
    public var hash: Bytes32 { Bytes32(unchecked: Array(SHA256.hash(data: self.bytes))) }

    /// The compressed payload.
    public var compressedPayload: ArraySlice<UInt8> {
        self.bytes[Self.headerLength..<(self.bytes.count - Self.signatureLength)]
    }

    /// The signature that ends the envelope.
    public var signature: ArraySlice<UInt8> { self.bytes[(self.bytes.count - Self.signatureLength)...] }

    /// The bytes the signature covers, context included.
    public var signedMessage: [UInt8] {
        Self.signatureContext + self.bytes[0..<(self.bytes.count - Self.signatureLength)]
    }

    /// Parses and bounds-checks an envelope. Neither the signature nor the payload is examined: see
    /// ``verifySignature(publicKey:)`` and ``decodeEvents()``.
    public init(bytes: [UInt8]) throws(WireError) {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(buffer: &buffer, raw: bytes)
    }

    /// The sequence an ERROR about the BATCH body `buffer` names (PROTOCOL.md §7.5): the `u64` at offset 48 when
    /// the body holds at least 56 bytes, whatever else is wrong with it; 0 when it is shorter.
    public static func sequence(namedBy buffer: ByteBuffer) -> UInt64 {
        buffer.getInteger(at: buffer.readerIndex + 48, endianness: .big, as: UInt64.self) ?? 0
    }

    /// Parses an envelope held in a buffer (for example a `BATCH` frame's body).
    public init(buffer: ByteBuffer) throws(WireError) {
        var copy = buffer
        try self.init(buffer: &copy, raw: Array(buffer.readableBytesView))
    }

    private init(buffer: inout ByteBuffer, raw: [UInt8]) throws(WireError) {
        guard raw.count >= Self.headerLength + Self.signatureLength else {
            throw WireError.truncated(what: "batch envelope")
        }
        let magic = try buffer.readWireBytes(4, "batch magic")
        guard magic == Self.magic else { throw WireError.badMagic(what: "batch") }
        let version = try buffer.readWireInteger("batch version", as: UInt8.self)
        guard version == Self.formatVersion else {
            throw WireError.unsupportedVersion(what: "batch format", version: Int(version))
        }
        let codecByte = try buffer.readWireInteger("batch codec", as: UInt8.self)
        guard let codec = Codec(rawValue: codecByte) else { throw WireError.unknownCodec(codecByte) }
        let flags = try buffer.readWireInteger("batch flags", as: UInt16.self)
        guard flags == 0 else { throw WireError.invalidValue(what: "batch flags", value: Int(flags)) }
        self.codec = codec
        self.keyID = try buffer.readWire32("batch key id")
        self.epoch = try buffer.readWireInteger("batch epoch")
        self.sequence = try buffer.readWireInteger("batch sequence")
        guard self.sequence >= 1 else { throw WireError.invalidValue(what: "batch sequence", value: 0) }
        self.previousHash = try buffer.readWire32("batch previous hash")
        self.createdNanos = try buffer.readWireInteger("batch created time")
        self.firstEventNanos = try buffer.readWireInteger("batch first event time")
        self.lastEventNanos = try buffer.readWireInteger("batch last event time")
        guard self.firstEventNanos <= self.lastEventNanos else {
            throw WireError.invalidValue(what: "batch first event time after last", value: 0)
        }
        let count = Int(try buffer.readWireInteger("batch event count", as: UInt32.self))
        guard count >= 1 else { throw WireError.invalidValue(what: "batch event count", value: 0) }
        try checkLength("batch event count", count, limit: WireLimits.maxEventsPerBatch)
        self.eventCount = count
        let uncompressed = Int(try buffer.readWireInteger("batch uncompressed length", as: UInt32.self))
        try checkLength("batch uncompressed length", uncompressed, limit: WireLimits.maxUncompressedBatchLength)
        self.uncompressedLength = uncompressed
        let compressed = Int(try buffer.readWireInteger("batch compressed length", as: UInt32.self))
        try checkLength("batch compressed length", compressed, limit: WireLimits.maxCompressedBatchLength)
        let expected = Self.headerLength + compressed + Self.signatureLength
        guard raw.count == expected else {
            throw WireError.lengthMismatch(what: "batch envelope", declared: expected, actual: raw.count)
        }
        self.bytes = raw
    }

    private init(header: BatchHeader, eventCount: Int, uncompressedLength: Int, bytes: [UInt8]) {
        self.codec = .zlib
        self.keyID = header.keyID
        self.epoch = header.epoch
        self.sequence = header.sequence
        self.previousHash = header.previousHash
        self.createdNanos = header.createdNanos
        self.firstEventNanos = header.firstEventNanos
        self.lastEventNanos = header.lastEventNanos
        self.eventCount = eventCount
        self.uncompressedLength = uncompressedLength
        self.bytes = bytes
    }

    // MARK: - Verification

    /// Throws ``WireError/keyMismatch`` unless the batch names `publicKey`, and ``WireError/badSignature`` unless
    /// its signature verifies. Call this before ``decodeEvents()``: nothing unauthenticated is inflated.
    public func verifySignature(publicKey: Curve25519.Signing.PublicKey) throws(WireError) {
        guard self.keyID == KeyID.of(publicKey) else { throw WireError.keyMismatch }
        guard Ed25519.isValidSignature(self.signature, for: self.signedMessage, publicKey: publicKey) else {
            throw WireError.badSignature
        }
    }

    /// Inflates the payload (never past its declared length) and decodes its events, checking that the count and
    /// the first/last event times in the header match them.
    public func decodeEvents() throws(WireError) -> [Event] {
        try self.decodeLayout().events()
    }

    /// ``decodeEvents()`` without building the events: where each one lies in the inflated payload, with the same
    /// checks and errors. `inflate` must behave as ``Zlib/inflate(_:declaredLength:)`` does.
    public func decodeLayout(
        inflate: (ArraySlice<UInt8>, Int) throws(WireError) -> [UInt8] = { (input, length) throws(WireError) in
            try Zlib.inflate(input, declaredLength: length)
        }
    ) throws(WireError) -> EventLayout {
        let payload = try inflate(self.compressedPayload, self.uncompressedLength)
        let layout = try EventLayout(payload, count: self.eventCount)
        var first = Int64.max
        var last = Int64.min
        for entry in layout.entries {
            first = min(first, entry.timeNanos)
            last = max(last, entry.timeNanos)
        }
        guard first == self.firstEventNanos, last == self.lastEventNanos else {
            throw WireError.invalidValue(what: "batch event time range disagrees with its events", value: 0)
        }
        return layout
    }

    // MARK: - Building

    /// Encodes, compresses and signs `events` as the batch `header` describes.
    public static func build(
        events: [Event],
        header: BatchHeader,
        signingKey: Curve25519.Signing.PrivateKey,
        compressionLevel: Int32 = 6
    ) throws -> SignedBatch {
        let payload = try EventCodec.encode(events)
        return try Self.compressAndSign(payload, eventCount: events.count, header, signingKey, compressionLevel)
    }

    /// Compresses and signs a payload built event by event; the header's time range is the payload's.
    public static func build(
        payload: PayloadBuilder,
        keyID: Bytes32,
        epoch: UInt64,
        sequence: UInt64,
        previousHash: Bytes32,
        createdNanos: Int64,
        signingKey: Curve25519.Signing.PrivateKey,
        compressionLevel: Int32 = 6
    ) throws -> SignedBatch {
        let header = BatchHeader(
            keyID: keyID,
            epoch: epoch,
            sequence: sequence,
            previousHash: previousHash,
            createdNanos: createdNanos,
            firstEventNanos: payload.isEmpty ? 0 : payload.firstEventNanos,
            lastEventNanos: payload.isEmpty ? 0 : payload.lastEventNanos
        )
        return try Self.compressAndSign(
            payload.bytes,
            eventCount: payload.eventCount,
            header,
            signingKey,
            compressionLevel
        )
    }

    private static func compressAndSign(
        _ payload: [UInt8],
        eventCount: Int,
        _ header: BatchHeader,
        _ signingKey: Curve25519.Signing.PrivateKey,
        _ compressionLevel: Int32
    ) throws -> SignedBatch {
        try Self.assemble(
            header: header,
            eventCount: eventCount,
            uncompressed: payload.count,
            compressed: try Zlib.compress(payload, level: compressionLevel),
            signingKey: signingKey
        )
    }

    /// Assembles and signs an envelope around an already compressed payload (used by the test vectors, whose zlib
    /// bytes must not depend on the local zlib version).
    public static func assemble(
        header: BatchHeader,
        eventCount: Int,
        uncompressed: Int,
        compressed: [UInt8],
        signingKey: Curve25519.Signing.PrivateKey
    ) throws -> SignedBatch {
        guard eventCount >= 1 else { throw WireError.invalidValue(what: "batch event count", value: 0) }
        try checkLength("batch event count", eventCount, limit: WireLimits.maxEventsPerBatch)
        try checkLength("batch uncompressed length", uncompressed, limit: WireLimits.maxUncompressedBatchLength)
        try checkLength("batch compressed length", compressed.count, limit: WireLimits.maxCompressedBatchLength)
        guard header.sequence >= 1 else { throw WireError.invalidValue(what: "batch sequence", value: 0) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.headerLength + compressed.count + Self.signatureLength)
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(Self.formatVersion)
        buffer.writeInteger(Codec.zlib.rawValue)
        buffer.writeInteger(UInt16(0), endianness: .big)
        buffer.writeBytes(header.keyID.bytes)
        buffer.writeInteger(header.epoch, endianness: .big)
        buffer.writeInteger(header.sequence, endianness: .big)
        buffer.writeBytes(header.previousHash.bytes)
        buffer.writeInteger(header.createdNanos, endianness: .big)
        buffer.writeInteger(header.firstEventNanos, endianness: .big)
        buffer.writeInteger(header.lastEventNanos, endianness: .big)
        buffer.writeInteger(UInt32(eventCount), endianness: .big)
        buffer.writeInteger(UInt32(uncompressed), endianness: .big)
        buffer.writeInteger(UInt32(compressed.count), endianness: .big)
        buffer.writeBytes(compressed)
        var bytes = Array(buffer.readableBytesView)
        let signature = try signingKey.signature(for: Self.signatureContext + bytes)
        bytes += signature
        return SignedBatch(header: header, eventCount: eventCount, uncompressedLength: uncompressed, bytes: bytes)
    }
}

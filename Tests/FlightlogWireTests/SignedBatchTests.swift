import Crypto
import FlightlogWire
import NIOCore
import Testing

/// The signed batch envelope (PROTOCOL.md §5).
struct SignedBatchTests {
    @Test("build, parse, verify and decode")
    func roundTrip() throws {
        let batch = try Fixtures.batch()
        let parsed = try SignedBatch(bytes: batch.bytes)
        #expect(parsed == batch)
        #expect(try SignedBatch(buffer: ByteBuffer(bytes: batch.bytes)) == batch)
        try parsed.verifySignature(publicKey: Fixtures.agentKey.publicKey)
        #expect(try parsed.decodeEvents() == Fixtures.events)
        #expect(parsed.keyID == Fixtures.agentKeyID)
        #expect(parsed.epoch == Fixtures.epoch)
        #expect(parsed.sequence == 1)
        #expect(parsed.previousHash == .zero)
        #expect(parsed.eventCount == 3)
        #expect(parsed.firstEventNanos == Fixtures.baseTime + 500_000)
        #expect(parsed.lastEventNanos == Fixtures.baseTime + 2_000_000)
        #expect(parsed.uncompressedLength == (try EventCodec.encode(Fixtures.events)).count)
        #expect(parsed.bytes.count == 188 + parsed.compressedPayload.count)
    }

    @Test("what is signed and what is hashed")
    func signedAndHashed() throws {
        let batch = try Fixtures.batch()
        let body = Array(batch.bytes.dropLast(64))
        #expect(batch.signedMessage == Array("FLIGHTLOG-BATCH-V1".utf8) + [0] + body)
        #expect(Fixtures.agentKey.publicKey.isValidSignature(batch.signature, for: batch.signedMessage))
        // Without the context the signature must not verify: the context is part of what is signed.
        #expect(!Fixtures.agentKey.publicKey.isValidSignature(batch.signature, for: body))
        #expect(batch.hash == Bytes32(SHA256.hash(data: batch.bytes))!)
        #expect(Fixtures.agentKeyID == Bytes32(SHA256.hash(data: Fixtures.agentKey.publicKey.rawRepresentation))!)
    }

    @Test("the header is laid out as PROTOCOL.md §5 says")
    func layout() throws {
        let batch = try Fixtures.batch(sequence: 0x0102, previousHash: Fixtures.nonce)
        let b = batch.bytes
        #expect(Array(b[0..<4]) == Array("FLB1".utf8))
        #expect(b[4] == 1)
        #expect(b[5] == 1)
        #expect(Array(b[6..<8]) == [0, 0])
        #expect(Array(b[8..<40]) == Fixtures.agentKeyID.bytes)
        #expect(Array(b[40..<48]) == [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef])
        #expect(Array(b[48..<56]) == [0, 0, 0, 0, 0, 0, 1, 2])
        #expect(Array(b[56..<88]) == Fixtures.nonce.bytes)
        #expect(Array(b[112..<116]) == [0, 0, 0, 3])
        let n = b.count - 188
        #expect(Array(b[120..<124]) == [0, 0, UInt8(n >> 8), UInt8(n & 0xff)])
        #expect(Array(batch.compressedPayload) == Array(b[124..<(124 + n)]))
    }

    @Test("a flipped bit anywhere breaks the signature")
    func tamper() throws {
        let batch = try Fixtures.batch()
        for index in stride(from: 0, to: batch.bytes.count, by: 7) {
            var bytes = batch.bytes
            bytes[index] ^= 0x01
            guard let parsed = try? SignedBatch(bytes: bytes) else { continue }
            if (8..<40).contains(index) {
                #expect(throws: WireError.keyMismatch) {
                    try parsed.verifySignature(publicKey: Fixtures.agentKey.publicKey)
                }
            } else {
                #expect(throws: WireError.badSignature) {
                    try parsed.verifySignature(publicKey: Fixtures.agentKey.publicKey)
                }
            }
        }
    }

    @Test("another agent's batch is a key mismatch, even with its valid signature")
    func keyMismatch() throws {
        let other = try Fixtures.batch(key: Fixtures.otherKey)
        try other.verifySignature(publicKey: Fixtures.otherKey.publicKey)
        #expect(throws: WireError.keyMismatch) { try other.verifySignature(publicKey: Fixtures.agentKey.publicKey) }
    }

    @Test("envelope errors")
    func parseErrors() throws {
        let good = try Fixtures.batch().bytes
        func patched(_ offset: Int, _ bytes: [UInt8]) -> [UInt8] {
            var copy = good
            copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            return copy
        }
        #expect(throws: WireError.truncated(what: "batch envelope")) { try SignedBatch(bytes: Array(good[..<187])) }
        #expect(throws: WireError.badMagic(what: "batch")) {
            try SignedBatch(bytes: patched(0, [0x46, 0x4c, 0x42, 0x32]))
        }
        #expect(throws: WireError.unsupportedVersion(what: "batch format", version: 2)) {
            try SignedBatch(bytes: patched(4, [2]))
        }
        #expect(throws: WireError.unknownCodec(0)) { try SignedBatch(bytes: patched(5, [0])) }
        #expect(throws: WireError.invalidValue(what: "batch flags", value: 0x8000)) {
            try SignedBatch(bytes: patched(6, [0x80, 0]))
        }
        #expect(throws: WireError.invalidValue(what: "batch sequence", value: 0)) {
            try SignedBatch(bytes: patched(48, Array(repeating: 0, count: 8)))
        }
        #expect(throws: WireError.invalidValue(what: "batch first event time after last", value: 0)) {
            try SignedBatch(bytes: patched(96, [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
        }
        #expect(throws: WireError.invalidValue(what: "batch event count", value: 0)) {
            try SignedBatch(bytes: patched(112, [0, 0, 0, 0]))
        }
        #expect(throws: WireError.lengthExceedsLimit(what: "batch event count", length: 65537, limit: 65536)) {
            try SignedBatch(bytes: patched(112, [0, 1, 0, 1]))
        }
        #expect(
            throws: WireError.lengthExceedsLimit(what: "batch uncompressed length", length: 4_194_305, limit: 4_194_304)
        ) {
            try SignedBatch(bytes: patched(116, [0, 0x40, 0, 1]))
        }
        #expect(
            throws: WireError.lengthExceedsLimit(what: "batch compressed length", length: 4_194_305, limit: 4_194_304)
        ) {
            try SignedBatch(bytes: patched(120, [0, 0x40, 0, 1]))
        }
        #expect(throws: WireError.lengthMismatch(what: "batch envelope", declared: good.count + 1, actual: good.count))
        {
            try SignedBatch(
                bytes: patched(120, withUnsafeBytes(of: UInt32(good.count - 188 + 1).bigEndian, Array.init))
            )
        }
        #expect(throws: WireError.lengthMismatch(what: "batch envelope", declared: good.count, actual: good.count + 1))
        {
            try SignedBatch(bytes: good + [0])
        }
    }

    @Test("payload errors surface only from decodeEvents, after the signature verified")
    func payloadErrors() throws {
        let good = try Fixtures.batch()
        func resigned(_ offset: Int, _ bytes: [UInt8]) throws -> SignedBatch {
            var copy = good.bytes
            copy.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            let batch = try SignedBatch(bytes: try Fixtures.resign(copy))
            try batch.verifySignature(publicKey: Fixtures.agentKey.publicKey)
            return batch
        }
        #expect(throws: WireError.truncated(what: "event 3 time")) { try resigned(112, [0, 0, 0, 4]).decodeEvents() }
        #expect(
            throws: WireError.trailingBytes(
                what: "batch payload",
                count: good.uncompressedLength - EventCodec.encodedSize(Fixtures.events[0])
                    - EventCodec.encodedSize(Fixtures.events[1])
            )
        ) {
            try resigned(112, [0, 0, 0, 2]).decodeEvents()
        }
        #expect(throws: WireError.inflatedLengthMismatch(declared: good.uncompressedLength + 1)) {
            try resigned(116, withUnsafeBytes(of: UInt32(good.uncompressedLength + 1).bigEndian, Array.init))
                .decodeEvents()
        }
        #expect(throws: WireError.invalidValue(what: "batch event time range disagrees with its events", value: 0)) {
            try resigned(104, withUnsafeBytes(of: (good.lastEventNanos + 1).bigEndian, Array.init)).decodeEvents()
        }
        #expect(throws: WireError.invalidValue(what: "batch event time range disagrees with its events", value: 0)) {
            try resigned(96, withUnsafeBytes(of: (good.firstEventNanos - 1).bigEndian, Array.init)).decodeEvents()
        }
    }

    @Test("assemble refuses what a receiver would refuse")
    func assembleLimits() {
        let header = BatchHeader(
            keyID: Fixtures.agentKeyID,
            epoch: 1,
            sequence: 1,
            previousHash: .zero,
            createdNanos: 0,
            firstEventNanos: 0,
            lastEventNanos: 0
        )
        #expect(throws: WireError.invalidValue(what: "batch event count", value: 0)) {
            try SignedBatch.assemble(
                header: header,
                eventCount: 0,
                uncompressed: 0,
                compressed: [],
                signingKey: Fixtures.agentKey
            )
        }
        var zero = header
        zero.sequence = 0
        #expect(throws: WireError.invalidValue(what: "batch sequence", value: 0)) {
            try SignedBatch.assemble(
                header: zero,
                eventCount: 1,
                uncompressed: 0,
                compressed: [],
                signingKey: Fixtures.agentKey
            )
        }
        #expect(throws: WireError.self) {
            try SignedBatch.build(events: [], header: header, signingKey: Fixtures.agentKey)
        }
    }
}

import Crypto
import FlightlogTestSupport
import FlightlogWire
import NIOCore
import Testing

/// The agent builds each batch payload as it reads lines, copying fields its parsers wrote in wire form
/// (``EncodedFields``): the bytes must be those PROTOCOL.md §6 defines, exactly as the reference writer
/// (``EventCodec/write(_:to:)``, one `ByteBuffer` write per value) produces them.
@Suite("PayloadBuilder and EncodedFields: a payload built line by line is the payload of its events")
struct PayloadBuilderTests {
    @Test("events appended as values or with fields pre-encoded give the reference writer's bytes")
    func sameBytesAsTheReferenceWriter() throws {
        var random = SeededRandom(state: 0xC0FF_EE00_1234_5678)
        for _ in 0..<200 {
            let events = CornerCaseEvents.events(&random)
            var reference = ByteBuffer()
            for event in events { EventCodec.write(event, to: &reference) }
            let expected = Array(reference.readableBytesView)

            #expect(try EventCodec.encode(events) == expected)
            var encoded = PayloadBuilder()
            for event in events {
                try event.line.withUnsafeBufferPointer { line in
                    try encoded.append(
                        timeNanos: event.timeNanos,
                        observedNanos: event.observedNanos,
                        flags: event.flags,
                        host: event.host,
                        source: event.source,
                        line: line,
                        fields: EncodedFields(event.fields)
                    )
                }
            }
            #expect(encoded.bytes == expected)
            #expect(encoded.eventCount == events.count)
            #expect(encoded.firstEventNanos == events.map(\.timeNanos).min())
            #expect(encoded.lastEventNanos == events.map(\.timeNanos).max())
            #expect(try EventCodec.decode(encoded.bytes, count: encoded.eventCount) == events)
        }
    }

    @Test("encoded fields read back as the fields given, and contains(key:) finds exactly their keys")
    func fieldsRoundTrip() {
        var random = SeededRandom(state: 7)
        for _ in 0..<200 {
            let fields = CornerCaseEvents.event(&random).fields
            let encoded = EncodedFields(fields)
            #expect(encoded.fields == fields)
            #expect(encoded.count == fields.count)
            for field in fields { #expect(encoded.contains(key: field.key)) }
            #expect(!encoded.contains(key: "no such key \u{e9}"))
        }
    }

    @Test("keys, values and the field count are kept within the wire limits, cut on a character boundary")
    func limits() throws {
        var fields = EncodedFields()

        // 3-byte characters: 8192 is not a multiple of 3, so a byte cut would split one.
        let long = String(repeating: "\u{20ac}", count: 3000)
        fields.append(String(repeating: "k", count: 300), long)
        var bytes = Array(long.utf8)
        bytes.withUnsafeBufferPointer { fields.append("bytes", validUTF8: $0) }
        let read = fields.fields
        #expect(read.count == 2)
        #expect(read[0].key == String(repeating: "k", count: 255))
        #expect(read[0].value == String(repeating: "\u{20ac}", count: 2730))
        #expect(read[1].value == read[0].value)

        bytes = Array("v".utf8)
        for index in 0..<70 { bytes.withUnsafeBufferPointer { fields.append("k\(index)", validUTF8: $0) } }
        #expect(fields.count == WireLimits.maxFieldsPerEvent)
        #expect(fields.isFull)
        #expect(fields.fields.last?.key == "k61")

        // Whatever was cut, the event encodes: nothing a receiver would refuse.
        let event = Event(timeNanos: 1, observedNanos: 2, host: "h", source: "s", line: [1], fields: fields.fields)
        #expect(throws: Never.self) { try EventCodec.validate(event) }
    }

    @Test("host, source and line over their limits are refused, and the payload is left as it was")
    func refusedEventsLeaveNothing() throws {
        var payload = PayloadBuilder()
        try [UInt8]([0x61]).withUnsafeBufferPointer { line in
            try payload.append(
                timeNanos: 5,
                observedNanos: 5,
                flags: [],
                host: "h",
                source: "s",
                line: line,
                fields: EncodedFields()
            )
        }
        let before = payload.bytes
        let tooLong = [UInt8](repeating: 0x61, count: WireLimits.maxLineLength + 1)
        #expect(throws: WireError.lengthExceedsLimit(what: "event line", length: 65537, limit: 65536)) {
            try tooLong.withUnsafeBufferPointer { line in
                try payload.append(
                    timeNanos: 1,
                    observedNanos: 1,
                    flags: [],
                    host: "h",
                    source: "s",
                    line: line,
                    fields: EncodedFields()
                )
            }
        }
        #expect(throws: WireError.lengthExceedsLimit(what: "event host", length: 256, limit: 255)) {
            try payload.append(
                Event(timeNanos: 1, observedNanos: 1, host: String(repeating: "h", count: 256), source: "", line: [])
            )
        }
        #expect(payload.bytes == before)
        #expect(payload.eventCount == 1)
        #expect(payload.firstEventNanos == 5)
    }

    @Test("a batch built from a payload carries its events and their time range")
    func signedBatchFromPayload() throws {
        var random = SeededRandom(state: 99)
        let events = (0..<12).map { _ in CornerCaseEvents.event(&random) }
        var payload = PayloadBuilder()
        for event in events { try payload.append(event) }
        let key = Curve25519.Signing.PrivateKey()
        let batch = try SignedBatch.build(
            payload: payload,
            keyID: KeyID.of(key.publicKey),
            epoch: 1,
            sequence: 1,
            previousHash: .zero,
            createdNanos: 10,
            signingKey: key,
            compressionLevel: 1
        )
        let parsed = try SignedBatch(bytes: batch.bytes)
        #expect(try parsed.decodeEvents() == events)
        #expect(parsed.firstEventNanos == events.map(\.timeNanos).min())
        #expect(parsed.lastEventNanos == events.map(\.timeNanos).max())
        #expect(parsed.eventCount == events.count)
        #expect(throws: Never.self) { try parsed.verifySignature(publicKey: key.publicKey) }
    }
}

import FlightlogWire
import NIOCore
import Testing

/// The event encoding inside a batch payload (PROTOCOL.md §6).
struct EventCodecTests {
    @Test func roundTrip() throws {
        let payload = try EventCodec.encode(Fixtures.events)
        #expect(payload.count == Fixtures.events.map(EventCodec.encodedSize).reduce(0, +))
        #expect(try EventCodec.decode(payload, count: Fixtures.events.count) == Fixtures.events)
    }

    @Test("an event is laid out as PROTOCOL.md §6 says")
    func layout() throws {
        let event = Event(
            timeNanos: 0x0102_0304_0506_0708,
            observedNanos: -1,
            flags: .timeFromLine,
            host: "h",
            source: "s",
            line: [0xff, 0x0a],
            fields: [Event.Field("k", "v")]
        )
        let expected: [UInt8] =
            [1, 2, 3, 4, 5, 6, 7, 8] + Array(repeating: 0xff, count: 8) + [0x01] + [1, 0x68] + [0, 1, 0x73]
            + [0, 0, 0, 2, 0xff, 0x0a] + [1] + [1, 0x6b, 0, 1, 0x76]
        #expect(try EventCodec.encode([event]) == expected)
    }

    @Test("the smallest event is 25 bytes")
    func smallest() throws {
        let event = Event(timeNanos: 0, observedNanos: 0, host: "", source: "", line: [])
        #expect(try EventCodec.encode([event]).count == 25)
    }

    @Test("limits are enforced when encoding")
    func encodeLimits() {
        let base = Event(timeNanos: 0, observedNanos: 0, host: "", source: "", line: [])
        var host = base
        host.host = String(repeating: "h", count: 256)
        #expect(throws: WireError.lengthExceedsLimit(what: "event host", length: 256, limit: 255)) {
            try EventCodec.encode([host])
        }
        var line = base
        line.line = Array(repeating: 0, count: WireLimits.maxLineLength + 1)
        #expect(throws: WireError.lengthExceedsLimit(what: "event line", length: 65537, limit: 65536)) {
            try EventCodec.encode([line])
        }
        var fields = base
        fields.fields = Array(repeating: Event.Field("k", "v"), count: 65)
        #expect(throws: WireError.lengthExceedsLimit(what: "event field count", length: 65, limit: 64)) {
            try EventCodec.encode([fields])
        }
        var value = base
        value.fields = [Event.Field("k", String(repeating: "v", count: 8193))]
        #expect(throws: WireError.lengthExceedsLimit(what: "field value", length: 8193, limit: 8192)) {
            try EventCodec.encode([value])
        }
        var source = base
        source.source = String(repeating: "s", count: 4097)
        #expect(throws: WireError.lengthExceedsLimit(what: "event source", length: 4097, limit: 4096)) {
            try EventCodec.encode([source])
        }
        var flags = base
        flags.flags = Event.Flags(rawValue: 0x02)
        #expect(throws: WireError.invalidValue(what: "event flags", value: 2)) { try EventCodec.encode([flags]) }
    }

    @Test("payloads that break the rules are refused")
    func decodeErrors() throws {
        let payload = try EventCodec.encode(Fixtures.events)
        #expect(
            throws: WireError.trailingBytes(
                what: "batch payload",
                count: payload.count - EventCodec.encodedSize(Fixtures.events[0])
            )
        ) {
            try EventCodec.decode(payload, count: 1)
        }
        #expect(throws: WireError.truncated(what: "event 3 time")) { try EventCodec.decode(payload, count: 4) }
        #expect(throws: WireError.lengthExceedsLimit(what: "batch event count", length: 65537, limit: 65536)) {
            try EventCodec.decode(payload, count: 65537)
        }
        var flags = payload
        flags[16] = 0x80
        #expect(throws: WireError.invalidValue(what: "event 0 flags", value: 0x80)) {
            try EventCodec.decode(flags, count: 3)
        }
        var host = payload
        host[18] = 0xc0
        #expect(throws: WireError.invalidUTF8(what: "event 0 host")) { try EventCodec.decode(host, count: 3) }
        var line: [UInt8] = Array(repeating: 0, count: 17) + [0] + [0, 0] + [0, 1, 0, 1]
        #expect(throws: WireError.lengthExceedsLimit(what: "event 0 line", length: 65537, limit: 65536)) {
            try EventCodec.decode(line, count: 1)
        }
        line = Array(repeating: 0, count: 17) + [0] + [0, 0] + [0, 0, 0, 0] + [65]
        #expect(throws: WireError.lengthExceedsLimit(what: "event 0 field count", length: 65, limit: 64)) {
            try EventCodec.decode(line, count: 1)
        }
    }

    @Test("a repeated host or source decodes like a fresh one, including a change of length")
    func repeatedStrings() throws {
        let events = [
            Event(timeNanos: 1, observedNanos: 1, host: "a", source: "x", line: []),
            Event(timeNanos: 2, observedNanos: 2, host: "a", source: "x", line: []),
            Event(timeNanos: 3, observedNanos: 3, host: "b", source: "xy", line: []),
            Event(timeNanos: 4, observedNanos: 4, host: "", source: "", line: []),
            Event(timeNanos: 5, observedNanos: 5, host: "b", source: "xy", line: []),
        ]
        #expect(try EventCodec.decode(EventCodec.encode(events), count: events.count) == events)
        // The second event's host has the first one's length but a byte that is not UTF-8: it must be validated.
        var payload = try EventCodec.encode(Array(events[0...1]))
        #expect(payload.count == 2 * 27)
        payload[27 + 18] = 0xff
        #expect(throws: WireError.invalidUTF8(what: "event 1 host")) { try EventCodec.decode(payload, count: 2) }
    }
}

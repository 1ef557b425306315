import FlightlogTestSupport
import FlightlogWire
import Testing

/// ``EventLayout`` checks a batch payload as the decoder does and keeps offsets into it, so that ingest and `verify`
/// read authentic events in place: what it reads must be the events encoded, and what the decoder refuses it must
/// refuse with the same error. (What the store derives from it: `EventRowsTests` in the store's tests.)
@Suite("EventLayout: events read in place are the events encoded")
struct EventLayoutTests {
    @Test("the events read in place are the events encoded, on events built to hit the corners")
    func readsTheEventsEncoded() throws {
        var random = SeededRandom(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<200 {
            let events = CornerCaseEvents.events(&random)
            let layout = try EventLayout(try EventCodec.encode(events), count: events.count)
            #expect(layout.events() == events)
        }
    }

    @Test("a payload that does not decode is refused by the layout with the decoder's error")
    func refusesWhatDecodeRefuses() throws {
        var random = SeededRandom(state: 42)
        let events = [CornerCaseEvents.event(&random), CornerCaseEvents.event(&random)]
        let payload = try EventCodec.encode(events)
        #expect(throws: WireError.trailingBytes(what: "batch payload", count: 1)) {
            try EventLayout(payload + [0], count: 2)
        }
        #expect(throws: WireError.truncated(what: "event 2 time")) {
            try EventLayout(payload, count: 3).entries.count
        }
        var badHost = try EventCodec.encode([Event(timeNanos: 0, observedNanos: 0, host: "h", source: "", line: [])])
        badHost[18] = 0xff
        #expect(throws: WireError.invalidUTF8(what: "event 0 host")) { try EventLayout(badHost, count: 1) }
    }
}

import FlightlogEvidence
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// The export's fast path (each event's JSON written straight from its row) must give exactly what the general path
/// (the row read into a record, the record encoded) gives.
@Suite("JSON from the row agrees with the record's JSON")
struct EventJSONFastPathTests {
    @Test(arguments: [nil, "Europe/Paris"] as [String?])
    func jsonFromTheStatementIsTheRecordsJSON(zone: String?) async throws {
        let fixture = try await SharedIncident.shared.get()
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        try Self.expectAgreement(store, times: TimeFormatter(zone: zone.flatMap(TimeZone.init(identifier:))))
    }

    /// The fast path reads the values a row leaves in its batch itself (one look-up per row, not one SQL function
    /// per column): rows holding them in clear (a store written before 2026-12-07), rows leaving them in the batch,
    /// both in one store, and a row edited in clear (what it holds is what readers see; `verify` reports it) give
    /// the general path's JSON.
    @Test func rowsInClearRowsFromTheirBatchAndAnEditedRowAgree() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try Self.expectAgreement(try SQLiteStore(readOnlyPath: fixture.path), times: .utc)
        try fixture.tamper(VerifyTamperingTests.everythingInClear + " WHERE id % 2 = 0")
        try fixture.tamper(
            """
            UPDATE events SET line = CAST('edited' AS BLOB), source = 'elsewhere', pid = 7, severity = 'crit',
                observed_ns = 5, fields = '{"user":"x","user":"y"}' WHERE id = 3
            """
        )
        let mixed = try SQLiteStore(readOnlyPath: fixture.path)
        let inClear = try await mixed.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE length(line) > 0")
        }
        #expect(inClear == 21)
        try Self.expectAgreement(mixed, times: .utc)
        var edited = ""
        try mixed.forEachEventJSON(EventQuery()) { object in
            let text = String(decoding: object, as: UTF8.self)
            if text.hasPrefix(#"{"id":3,"#) { edited = text }
            return true
        }
        #expect(edited.contains(#""source":"elsewhere","process.name""#), "\(edited)")
        #expect(edited.contains(#""process.pid":7,"#), "\(edited)")
        #expect(edited.contains(#""log.syslog.severity.name":"crit""#), "\(edited)")
        #expect(edited.contains(#""message":"edited""#), "\(edited)")
        #expect(edited.contains(#""fields":{"user.name":["x","y"]}"#), "\(edited)")
    }

    /// Fields written straight from the batch: renamed keys, a key an ECS name would collide with, repeated keys
    /// (grouped into arrays through the stored form), escapes in keys, values and a line, no fields, and a line
    /// that is not UTF-8.
    @Test func fieldsWrittenFromTheBatchAgreeWithTheStoredForm() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-fields")
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let sets: [[(String, String)]] = [
            [("user", "mchen"), ("program", "sshd"), ("pid", "42"), ("severity", "info"), ("src_ip", "10.0.0.1")],
            [("user", "mchen"), ("user.name", "root")],
            [("event", "a"), ("event", "b"), ("other", "c"), ("event", "d")],
            [("quote\"key", "tab\tand\\back"), ("ctl", "\u{1}\u{1F}"), ("é", "naïve ✓")],
            [],
        ]
        // The last line is not UTF-8, with a repeated key.
        let fields = sets + [[("user", "x"), ("user", "y")]]
        var events = agent.events(fields.count, prefix: "line")
        for index in events.indices { events[index].fields = fields[index].map { Event.Field($0.0, $0.1) } }
        events[events.count - 1].line = [0x66, 0xFF, 0xFE, 0x0A]
        events[3].line = Array("a \"quote\", a back\\slash, a\ttab, \u{1}\u{1F} and more than eight bytes after".utf8)
        try await agent.ingest(try agent.chain([events]), into: store)
        try Self.expectAgreement(store, times: .utc, events: 6)
    }

    /// Every event of `store`, in every style: the fast path's JSON is the general path's.
    private static func expectAgreement(_ store: SQLiteStore, times: TimeFormatter, events: Int = 11) throws {
        for style in [EventJSON.Style.plain, .timesketch(clock: .event), .timesketch(clock: .received)] {
            var expected: [[UInt8]] = []
            try store.forEachEvent(EventQuery()) { event in
                expected.append(EventJSON.encode(event, style: style, times: times))
                return true
            }
            var actual: [[UInt8]] = []
            try store.forEachEventJSON(EventQuery(), style: style, times: times) { object in
                actual.append(object)
                return true
            }
            #expect(expected.count >= events)
            #expect(actual.count == expected.count)
            for (got, want) in zip(actual, expected) {
                #expect(String(decoding: got, as: UTF8.self) == String(decoding: want, as: UTF8.self))
            }
        }
    }
}

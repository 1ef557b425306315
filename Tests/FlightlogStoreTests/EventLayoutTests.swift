import FlightlogEvidence
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// Ingest and `verify` read authentic events in place (``EventLayout``) and derive from the payload bytes the
/// indexed columns, the `fields` JSON and the hunt index's text; bundle verification and the full-text indexer derive
/// them from decoded `Event`s and stored JSON. Any disagreement would be a wrong row, a false "row edited" finding
/// or, worse, a missed one; these tests hold the paths equal, and what ingest stores to the decoded events, on events
/// built to hit the corners (duplicate and case-varied keys, numbers that do not parse, escapes, non-ASCII, lines
/// that are not UTF-8).
@Suite("EventLayout: events read in place agree with decoded events")
struct EventLayoutTests {
    /// A small deterministic generator (xorshift), so that a failure can be replayed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state ^= self.state << 13
            self.state ^= self.state >> 7
            self.state ^= self.state << 17
            return self.state
        }
        mutating func pick<T>(_ choices: [T]) -> T { choices[Int(self.next() % UInt64(choices.count))] }
    }

    static let keys = [
        "program", "pid", "user", "src_ip", "severity", "message", "hostname", "PID", "Program", "User", "action",
        "outcome", "src_port", "Ip", "clientip", "k\"ey", "日本", "user ", "", "severity",
    ]
    static let values = [
        "sshd", "1234", "+12", "-0", "", "12a", "99999999999999999999", "-9223372036854775808", " 7", "mchen",
        "203.0.113.7", "quote \" back \\ nl \n tab \t ctl \u{01}", "Zoë 日本語 🔐", "\u{00}", "/", "a\u{301}",
    ]

    static func event(_ random: inout Random) -> Event {
        var line = Array("Nov 24 09:00:04 ws sshd[1]: Accepted password for mchen from 203.0.113.4".utf8)
        switch random.next() % 4 {
        case 0: line.append(contentsOf: [0xff, 0xfe, 0x41])  // not UTF-8
        case 1: line = Array("Zoë a tenté 日本語".utf8)
        case 2: line = []
        default: break
        }
        let fieldCount = Int(random.next() % 9)
        return Event(
            timeNanos: Int64(bitPattern: random.next()),
            observedNanos: Int64(bitPattern: random.next()),
            flags: random.next() % 2 == 0 ? [] : .timeFromLine,
            host: random.pick(["ws-1", "ws-1", "", "hôte-2"]),
            source: random.pick(["/var/log/auth.log", "/var/log/auth.log", "journal"]),
            line: line,
            fields: (0..<fieldCount).map { _ in Event.Field(random.pick(Self.keys), random.pick(Self.values)) }
        )
    }

    @Test("columns, fields JSON and hunt text from the payload equal those from decoded events")
    func agreesWithDecodedEvents() throws {
        let queue = try DatabaseQueue()
        let tokenizer = try queue.inDatabase { EventTokenizer(try $0.makeTokenizer(.unicode61())) }
        var random = Random(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<200 {
            let events = (0..<Int(1 + random.next() % 20)).map { _ in Self.event(&random) }
            let layout = try EventLayout(try EventCodec.encode(events), count: events.count)
            #expect(layout.events() == events)
            // What verify's examining threads derive for the batch (columns and fields JSON of every event).
            let derived = IntegrityChecker.AuthenticEvents(layout, tokenizer: tokenizer)
            var attributes: [UInt8] = []
            for (index, (entry, event)) in zip(layout.entries, events).enumerated() {
                let columns = IndexedColumns(event)
                let spans = derived.columns[index]
                #expect(spans.program.map(layout.string) == columns.program)
                #expect(spans.pid == columns.pid)
                #expect(spans.user.map(layout.string) == columns.user)
                #expect(spans.sourceIP.map(layout.string) == columns.sourceIP)
                #expect(spans.severity.map(layout.string) == columns.severity)

                let stored = FieldsJSON.encode(event.fields)
                #expect(derived.withFields(index) { Array($0) } == Array(stored.utf8))
                // What verify expects in events_attrs equals what the indexer writes from the stored JSON.
                FieldsDocument.append(layout, entry, to: &attributes)
                let indexed = FieldsDocument.text(pairs: event.fields.map { (key: $0.key, value: $0.value) })
                #expect(attributes == Array(indexed.utf8))
                if let fast = FieldsDocument.text(fieldsJSON: stored) { #expect(Array(fast.utf8) == attributes) }
            }
        }
    }

    @Test("ingest stores the values decoded events hold, in every column")
    func ingestStoresWhatDecodedEventsHold() async throws {
        // Ingest prepares rows from the payload in place (IngestItem), with the functions verify uses: this holds
        // what it stores to the decoded events, the reference the test above holds both of them to.
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("flightlog.db"))
        let agent = TestAgent(name: "rows")
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        var random = Random(state: 0x2545_F491_4F6C_DD1D)
        var previous = Bytes32.zero
        var expected: [Event] = []
        for sequence in 1...40 {
            let events = (0..<Int(1 + random.next() % 20)).map { _ in Self.event(&random) }
            let batch = try agent.batch(sequence: UInt64(sequence), previous: previous, events: events)
            previous = batch.hash
            let item = IngestItem(agentID: record.id, batch: batch, layout: try batch.decodeLayout(), receivedNanos: 7)
            #expect(try await store.ingest([item]) == [.stored])
            expected += events
        }
        let rows = try store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT time_ns, observed_ns, received_ns, flags, CAST(host AS BLOB), CAST(source AS BLOB),
                           CAST(program AS BLOB), pid, CAST(user AS BLOB), CAST(src_ip AS BLOB), CAST(severity AS BLOB),
                           line, CAST(fields AS BLOB), typeof(line),
                           typeof(host) || typeof(source) || typeof(user) || typeof(src_ip) || typeof(fields)
                    FROM events ORDER BY id
                    """
            )
        }
        #expect(rows.count == expected.count)
        for (row, event) in zip(rows, expected) {
            let columns = IndexedColumns(event)
            #expect(row[0] as Int64 == event.timeNanos)
            #expect(row[1] as Int64 == event.observedNanos)
            #expect(row[2] as Int64 == 7)
            #expect(row[3] as Int64 == Int64(event.flags.rawValue))
            // Text columns read as their bytes: a value may hold NUL, where a C string would end.
            func bytes(_ index: Int) -> [UInt8]? { (row[index] as Data?).map { [UInt8]($0) } }
            func utf8(_ string: String?) -> [UInt8]? {
                // CAST('' AS BLOB) is an empty blob, which reads as empty data.
                string.map { Array($0.utf8) }
            }
            #expect(bytes(4) ?? [] == Array(event.host.utf8))
            #expect(bytes(5) ?? [] == Array(event.source.utf8))
            #expect(bytes(6) == utf8(columns.program))
            #expect(row[7] as Int64? == columns.pid)
            #expect(bytes(8) == utf8(columns.user))
            #expect(bytes(9) == utf8(columns.sourceIP))
            #expect(bytes(10) == utf8(columns.severity))
            #expect(bytes(11) ?? [] == event.line)
            #expect(bytes(12) == Array(FieldsJSON.encode(event.fields).utf8))
            #expect(row[13] as String == "blob")
            let types =
                "text" + "text" + (columns.user == nil ? "null" : "text")
                + (columns.sourceIP == nil ? "null" : "text") + "text"
            #expect(row[14] as String == types)
        }
        let report = try await store.verify(VerifyOptions(verifier: nil, nowNanos: 1))
        #expect(report.findings.isEmpty, "\(report.findings)")
    }

    @Test("the hunt text leaves out exactly the fields Sigma reads from a column, whatever their ASCII case")
    func columnNamesLeftOut() {
        let names = FieldsDocument.columnNames.sorted()
        var keys = names + names.map { $0.uppercased() } + names.map { $0.prefix(1).uppercased() + $0.dropFirst() }
        keys += names.map { $0 + "x" } + names.map { String($0.dropLast()) } + names.map { "x" + $0 }
        keys += ["", "pid", "action", "src_port", "sourceipaddress", "hostnames", "ünicode", "Ip", "iP", "IP "]
        for key in keys {
            let text = FieldsDocument.text(pairs: [(key: key, value: "v")])
            let isColumn = FieldsDocument.columnNames.contains(key.lowercased())
            #expect(text == (isColumn ? "" : "\(key) v\n"), "\(key)")
        }
    }

    @Test("a payload that does not decode is refused by the layout with the decoder's error")
    func refusesWhatDecodeRefuses() throws {
        var random = Random(state: 42)
        let events = [Self.event(&random), Self.event(&random)]
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

@Suite("EventTokenizer: ASCII text tokenized in Swift as SQLite's unicode61 does")
struct EventTokenizerTests {
    @Test("the same token counts and digests as SQLite's tokenizer, line and attributes")
    func asciiFastPathAgreesWithSQLite() throws {
        let queue = try DatabaseQueue()
        try queue.inDatabase { db in
            let fast = EventTokenizer(try db.makeTokenizer(.unicode61()))
            let sqlite = EventTokenizer(try db.makeTokenizer(.unicode61()))
            sqlite.asciiFastPath = false
            var random = EventLayoutTests.Random(state: 0xDEAD_BEEF_1234_5678)
            // Every ASCII byte, runs of letters and digits of every length around the 8-byte words the digest reads.
            let alphabet = (0..<128).map { UInt8($0) } + Array("AZaz09Mm_-.".utf8)
            var checked = 0
            for _ in 0..<400 {
                let line = (0..<Int(random.next() % 120)).map { _ in random.pick(alphabet) }
                let word = String(repeating: random.pick(["A", "b", "7"]), count: Int(random.next() % 40))
                let event = Event(
                    timeNanos: 0,
                    observedNanos: 0,
                    host: "h",
                    source: "s",
                    line: line + Array(" \(word) End".utf8),
                    fields: [
                        Event.Field("program", random.pick(["sshd", "CRON", "x-Y_z9", ""])),
                        Event.Field("Action", "Login OK " + word), Event.Field("ip", "203.0.113.7"),
                    ]
                )
                let layout = try EventLayout(try EventCodec.encode([event]), count: 1)
                let entry = layout.entries[0]
                let program = IndexedSpans(layout, entry).program
                let a = fast.tokens(layout, entry, program: program)
                let b = sqlite.tokens(layout, entry, program: program)
                #expect(a.line == b.line, "\(line)")
                #expect(a.attributes == b.attributes)
                checked += Int(b.line.count)
            }
            #expect(checked > 4_000)
        }
    }

    @Test("the 8-byte letter-or-digit test agrees with the byte test for every ASCII byte at every position")
    func tokenBytesExhaustive() {
        for fill in [UInt8(0x20), 0x61, 0x5a, 0x7f, 0x00] {
            for position in 0..<8 {
                for byte in UInt8(0)..<0x80 {
                    var bytes = [UInt8](repeating: fill, count: 8)
                    bytes[position] = byte
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let mask = EventTokenizer.tokenBytes(word)
                    for index in 0..<8 {
                        let value = bytes[index]
                        let isToken =
                            (0x30...0x39).contains(value) || (0x41...0x5a).contains(value)
                            || (0x61...0x7a).contains(value)
                        #expect((mask >> UInt64(index * 8 + 7)) & 1 == (isToken ? 1 : 0), "\(bytes) at \(index)")
                    }
                }
            }
        }
    }
}

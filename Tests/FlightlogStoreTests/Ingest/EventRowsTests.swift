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
@Suite("Event rows: values derived in place agree with decoded events")
struct EventRowsTests {
    @Test("columns, fields JSON and hunt text from the payload equal those from decoded events")
    func agreesWithDecodedEvents() throws {
        let queue = try DatabaseQueue()
        let tokenizer = try queue.inDatabase { EventTokenizer(try $0.makeTokenizer(.unicode61())) }
        var random = SeededRandom(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<200 {
            let events = CornerCaseEvents.events(&random)
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
        var random = SeededRandom(state: 0x2545_F491_4F6C_DD1D)
        var previous = Bytes32.zero
        var expected: [Event] = []
        for sequence in 1...40 {
            let events = CornerCaseEvents.events(&random)
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
                    SELECT time_ns, event_observed(observed_ns, batch_id, idx),
                           (SELECT received_ns FROM batches b WHERE b.id = batch_id), flags, CAST(host AS BLOB),
                           CAST(event_source(source, batch_id, idx) AS BLOB), CAST(program AS BLOB),
                           event_pid(pid, batch_id, idx), CAST(user AS BLOB), CAST(src_ip AS BLOB),
                           CAST(event_severity(severity, batch_id, idx) AS BLOB),
                           event_line(line, batch_id, idx), CAST(event_fields(fields, batch_id, idx) AS BLOB),
                           typeof(event_line(line, batch_id, idx)),
                           typeof(host) || typeof(event_source(source, batch_id, idx)) || typeof(user) || typeof(src_ip)
                               || typeof(event_fields(fields, batch_id, idx)),
                           length(line) + length(fields) + (observed_ns != 0) + (received_ns != 0) + length(source)
                               + (pid IS NOT NULL) + (severity IS NOT NULL)
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
            // Read from the signed batch: the row keeps neither the line, the fields, the two times, the source, the
            // pid nor the severity.
            #expect(row[15] as Int64 == 0)
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
}

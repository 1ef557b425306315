import Crypto
import FlightlogEvidence
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Synchronization
import Testing

@testable import FlightlogStore

/// One test per kind of tampering, each on a copy of its own of the ``EvidenceFixture`` database.
@Suite("flightlog verify against real tampered databases")
struct VerifyTamperingTests {
    @Test func cleanDatabaseVerifiesClean() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        let report = try await fixture.verify(external: fixture.externalNote)
        #expect(report.findings == [])
        #expect(report.batchesChecked == 8)
        #expect(report.eventsChecked == 40)
        #expect(report.treeSize == 8)
        #expect(report.checkpointsChecked == 2)
        let incremental = try await fixture.verify(mode: .incremental)
        #expect(incremental.findings == [])
        #expect(incremental.mode == .incremental)
        #expect(incremental.batchesChecked == 0)
        let runs = try await SQLiteStore(path: fixture.path).verifyRuns()
        #expect(runs.map(\.outcome) == ["clean", "clean"])
        #expect(runs.map(\.mode) == ["full", "incremental"])
    }

    @Test func cleanAfterRestartAndNewEpochAndIncrementalSeesOnlyNewBatches() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        #expect(try await fixture.verify().findings == [])
        let reborn = {
            var agent = fixture.a
            agent.epoch = 2
            return agent
        }()
        let store = try SQLiteStore(path: fixture.path)
        try await reborn.ingest(try reborn.chain(2, tag: "after restart"), into: store)
        try await fixture.b.ingest(
            [
                try fixture.b.batch(
                    sequence: 5,
                    previous: try fixture.b.chain(4)[3].hash,
                    events: fixture.b.events(3, prefix: "more")
                )
            ],
            into: store
        )
        _ = try await store.makeCheckpoint(signer: fixture.signer, atNanos: nowNanos())
        let incremental = try await fixture.verify(mode: .incremental, external: fixture.externalNote)
        #expect(incremental.findings == [])
        #expect(incremental.batchesChecked == 3)
        let full = try await fixture.verify(external: fixture.externalNote)
        #expect(full.findings == [])
        #expect(full.batchesChecked == 11)
        #expect(full.treeSize == 11)
        // An old row edited after a clean run is left to the next full run; a new one is caught by incremental.
        try fixture.tamper("UPDATE events SET user = 'nobody' WHERE id = (SELECT MAX(id) FROM events)")
        try await reborn.ingest(
            [
                try reborn.batch(
                    sequence: 3,
                    previous: try reborn.chain(2, tag: "after restart")[1].hash,
                    events: reborn.events(1, prefix: "x")
                )
            ],
            into: store
        )
        try fixture.tamper("UPDATE events SET user = 'nobody' WHERE id = (SELECT MAX(id) FROM events)")
        let caught = try await fixture.verify(mode: .incremental)
        #expect(caught.kinds == [.rowEdited])
    }

    @Test func flippedByteInAStoredBatch() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        var bytes = try fixture.envelope(batchID: 2)
        bytes[130] ^= 0x01
        try fixture.tamper("UPDATE batches SET envelope = ? WHERE id = 2", arguments: [bytes])
        let report = try await fixture.verify()
        #expect(report.kinds.isSuperset(of: [.hashMismatch, .badSignature]))
        #expect(report.first(.hashMismatch)?.batchID == 2)
        #expect(report.first(.hashMismatch)?.agent == "ws-a")
        #expect(report.first(.hashMismatch)?.sequence == 2)
    }

    @Test(arguments: [
        ("UPDATE events SET line = CAST('nothing happened' AS BLOB) WHERE id = 3", "line"),
        ("UPDATE events SET user = 'alice' WHERE id = 4", "user"),
        ("UPDATE events SET time_ns = time_ns + 3600000000000 WHERE id = 5", "time_ns"),
        ("UPDATE events SET host = 'elsewhere', fields = '{}' WHERE id = 6", "host"),
        ("UPDATE events SET program = NULL WHERE id = 7", "program"),
        // The times the row holds as 0 (read from the batch) are edits when set to anything else.
        ("UPDATE events SET observed_ns = 1234567 WHERE id = 9", "observed_ns"),
        ("UPDATE events SET received_ns = 1234567 WHERE id = 9", "received_ns"),
        ("UPDATE events SET source = '/var/log/elsewhere' WHERE id = 10", "source"),
        ("UPDATE events SET pid = 4242 WHERE id = 10", "pid"),
        ("UPDATE events SET severity = 'debug' WHERE id = 10", "severity"),
        // Same bytes, another storage class: the comparison is on storage class and bytes.
        ("UPDATE events SET line = CAST(event_line(line, batch_id, idx) AS TEXT) WHERE id = 8", "line"),
        ("UPDATE events SET host = CAST(host AS BLOB) WHERE id = 8", "host"),
    ])
    func editedRow(sql: String, column: String) async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(sql)
        let report = try await fixture.verify()
        #expect(report.kinds == [.rowEdited])
        let finding = try #require(report.first(.rowEdited))
        #expect(finding.detail.contains(column))
        #expect(finding.batchID == 1 || finding.batchID == 2)
        #expect(finding.rowID != nil)
    }

    /// Writes every row as a store written before 2026-12-07 held it: line, fields and times in clear.
    static let everythingInClear = """
        UPDATE events SET line = event_line(line, batch_id, idx), fields = event_fields(fields, batch_id, idx),
            observed_ns = event_observed(observed_ns, batch_id, idx),
            received_ns = (SELECT received_ns FROM batches b WHERE b.id = batch_id),
            source = event_source(source, batch_id, idx), pid = event_pid(pid, batch_id, idx),
            severity = event_severity(severity, batch_id, idx)
        """

    /// Every event as a reader sees it (id, line, fields JSON, observed and received times), in id order.
    private static func contents(_ fixture: EvidenceFixture) throws -> [String] {
        let store = try SQLiteStore(readOnlyPath: fixture.path)
        var all: [(Int64, String)] = []
        _ = try store.forEachEvent(EventQuery()) { event in
            let line = String(decoding: event.line, as: UTF8.self)
            let times = "\(event.observedNanos) \(event.receivedNanos)"
            let columns = "\(event.source) \(event.pid.map(String.init) ?? "-") \(event.severity ?? "-")"
            all.append((event.id, "\(event.id) \(line) \(event.fieldsJSON) \(times) \(columns)"))
            return true
        }
        return all.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Rows of a store written before 2026-12-07 keep their line, fields and times in clear: they read as the
    /// batch's, verify clean, and a forged value in clear is still an edit.
    @Test func rowsKeepingTheirLineInClearReadAndVerifyAsBefore() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        func contents() throws -> [String] { try Self.contents(fixture) }
        let fromBatches = try contents()
        #expect(fromBatches.count == 40)
        try fixture.tamper(Self.everythingInClear)
        let store = try SQLiteStore(readOnlyPath: fixture.path)
        let inClear = try await store.pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM events
                    WHERE length(line) > 0 AND length(fields) > 1 AND observed_ns != 0 AND received_ns != 0
                    """
            )
        }
        #expect(inClear == 40)
        #expect(try contents() == fromBatches)
        #expect(try await fixture.verify().kinds == [])

        try fixture.tamper("UPDATE events SET line = CAST('nothing happened' AS BLOB) WHERE id = 3")
        #expect(try contents().contains { $0.hasPrefix("3 nothing happened ") })
        let report = try await fixture.verify()
        #expect(report.kinds == [.rowEdited])
        #expect(report.first(.rowEdited)?.rowID == 3)
    }

    /// `compact` empties the rows in clear that equal their batch, leaves an edited one as it is (verify still
    /// reports it), and changes nothing any reader sees.
    @Test func compactingRowsInClearKeepsWhatReadersSeeAndLeavesEditsForVerify() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(Self.everythingInClear)
        try fixture.tamper("UPDATE events SET line = CAST('nothing happened' AS BLOB) WHERE id = 3")
        try fixture.tamper("UPDATE events SET fields = '{\"user\":\"alice\"}' WHERE id = 4")
        func contents() throws -> [String] { try Self.contents(fixture) }
        let before = try contents()
        let store = try SQLiteStore(path: fixture.path)
        let seen = Mutex<[Int64]>([])
        let result = try await store.compactRows(rowsPerTransaction: 16) { progress in
            seen.withLock { $0.append(progress.throughID) }
        }
        #expect(result == RowCompaction(emptied: 38, leftInClear: 2, throughID: 40, lastID: 40))
        #expect(seen.withLock { $0 } == [16, 32, 40])
        #expect(try contents() == before)
        let inClear = try await store.pool.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM events
                    WHERE length(line) > 0 OR length(fields) > 0 OR observed_ns != 0 OR received_ns != 0
                       OR source != '' OR pid IS NOT NULL OR severity IS NOT NULL
                    ORDER BY id
                    """
            )
        }
        #expect(inClear == [3, 4])
        let report = try await fixture.verify()
        #expect(report.kinds == [.rowEdited])
        #expect(Set(report.findings.compactMap(\.rowID)) == [3, 4])
        // Again: nothing more to do.
        #expect(try await store.compactRows(rowsPerTransaction: 100) { _ in }.emptied == 0)
    }

    /// A batch whose stored envelope no longer inflates cannot give its events' lines: a query that needs them fails
    /// naming the batch (it does not skip them), one that does not need them still answers, and verify reports it.
    /// A row pointing past its batch's events fails the same way.
    @Test func aDamagedBatchFailsTheQueriesThatReadItsLinesNamingIt() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(
            "UPDATE batches SET envelope = substr(envelope, 1, 200) || x'00' || substr(envelope, 202) WHERE id = 3"
        )
        let store = try SQLiteStore(readOnlyPath: fixture.path)
        var all = EventQuery()
        all.agent = "ws-a"
        let error = #expect(throws: StoreError.self) { _ = try store.forEachEvent(all) { _ in true } }
        #expect("\(error.map { "\($0)" } ?? "")".contains("batch 3's stored envelope does not decode"))
        #expect(try store.countEvents(all) == 20)
        var other = EventQuery()
        other.agent = "ws-b"
        #expect(try store.forEachEvent(other) { _ in true } == 20)
        let report = try await fixture.verify()
        #expect(report.kinds.contains(.batchMalformed) && report.first(.batchMalformed)?.batchID == 3)

        try fixture.tamper("UPDATE events SET idx = 99 WHERE id = 30")
        let past = #expect(throws: StoreError.self) { _ = try store.forEachEvent(other) { _ in true } }
        #expect("\(past.map { "\($0)" } ?? "")".contains("event 99 of batch 6 is not in its signed payload"))
    }

    @Test func deletedRow() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper("DELETE FROM events WHERE id = 6")
        let report = try await fixture.verify()
        #expect(report.kinds == [.rowDeleted])
        #expect(report.first(.rowDeleted)?.rowID == 6)
        #expect(report.first(.rowDeleted)?.batchID == 2)
    }

    @Test func editedAuditTrailRow() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        for command in ["query", "export"] {
            _ = try AuditTrail.record(
                AuditEntry(
                    atNanos: nowNanos(),
                    who: "inv",
                    command: command,
                    arguments: ["--user", "mchen"],
                    resultCount: 3,
                    outcome: "ok"
                ),
                databasePath: fixture.path
            )
        }
        #expect(try await fixture.verify().kinds.isEmpty)
        // An insider drops the append-only trigger and rewrites what was searched for.
        try fixture.tamper("DROP TRIGGER audit_no_update")
        try fixture.tamper("UPDATE audit SET arguments = '[\"--user\",\"someone-else\"]' WHERE id = 1")
        let report = try await fixture.verify()
        #expect(report.kinds == [.auditChain])
    }

    @Test func insertedRow() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(
            """
            INSERT INTO events (id, batch_id, idx, agent_id, time_ns, observed_ns, received_ns, flags, host, source, user,
                                line, fields)
            SELECT 1000, batch_id, 5, agent_id, time_ns, observed_ns, received_ns, flags, host, source, 'mchen',
                   CAST('alibi' AS BLOB), '{}' FROM events WHERE id = 1
            """
        )
        let report = try await fixture.verify()
        #expect(report.kinds == [.rowInserted])
        #expect(report.first(.rowInserted)?.rowID == 1000)
    }

    @Test func fullTextIndexEntriesRemovedOrForged() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        // Hide row 7 from search (contentless delete needs the original text, which the row still has).
        try fixture.tamper(
            "INSERT INTO fts1.events_fts (events_fts, rowid, line) SELECT 'delete', id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE id = 7"
        )
        try fixture.tamper("INSERT INTO fts.events_fts (rowid, line) VALUES (5000, 'planted evidence')")
        let report = try await fixture.verify()
        #expect(report.kinds == [.ftsMismatch, .ftsOrphan])
        #expect(report.first(.ftsMismatch)?.rowID == 7)
        #expect(report.first(.ftsOrphan)?.rowID == 5000)
        // Scoped runs use the cheaper per-row size check, which also sees the removed row.
        let scoped = try await fixture.verify(agent: "ws-a")
        #expect(scoped.kinds == [.ftsMismatch])
    }

    /// A page of the line index's segments deleted by hand: the index cannot be read, which is a finding (the
    /// rest of the store is still checked and reported), not a run that could not complete.
    @Test func fullTextIndexPageRemoved() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper("DELETE FROM fts.events_fts_data WHERE id = (SELECT max(id) FROM fts.events_fts_data)")
        try fixture.tamper("UPDATE events SET user = 'nobody' WHERE id = 3")
        let report = try await fixture.verify()
        #expect(report.kinds.contains(.storageCorrupt), "\(report.kinds)")
        #expect(report.first(.storageCorrupt)?.detail.contains("events_fts") == true)
        #expect(report.kinds.contains(.rowEdited), "the row check still ran: \(report.kinds)")
    }

    /// The full-text file overwritten with garbage (it is derived, and `serve` would move it aside): `verify` reports
    /// it and still checks the evidence (here an edited row) in full, scoped and incremental runs. It used to stop at
    /// the open with "the full-text index … is damaged" and check nothing.
    @Test(arguments: 0..<FullTextLayout.fileCount)
    func anUnreadableIndexFileIsAFindingAndTheEvidenceIsStillChecked(file: Int) async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        #expect(try await fixture.verify().findings == [])
        try fixture.tamper("UPDATE events SET user = 'nobody' WHERE id = 3")
        let index = FullTextLayout.path(for: fixture.path, file: file)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
        let garbage = Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) })
        try garbage.write(to: URL(fileURLWithPath: index))
        for (mode, agent) in [(VerifyOptions.Mode.full, nil), (.full, "ws-a"), (.incremental, nil)] {
            let report = try await fixture.verify(mode: mode, agent: agent)
            #expect(report.kinds.contains(.storageCorrupt), "\(mode) \(agent ?? "all"): \(report.kinds)")
            #expect(report.first(.storageCorrupt)?.detail.contains("\(index) cannot be read") == true)
            // (An incremental run leaves rows older than the last clean run to the next full run.)
            if mode == .full { #expect(report.kinds.contains(.rowEdited), "\(agent ?? "all"): \(report.kinds)") }
            #expect(!report.kinds.contains(.ftsMismatch) && !report.kinds.contains(.ftsOrphan))
        }
        // The file is left as it was, for whoever wants to look at it.
        #expect(FileManager.default.contents(atPath: index) == garbage)
    }

    /// Row 7 re-indexed with row 8's text: the same number of tokens, other words. Only the full run's digest of
    /// (term, position) sees it.
    @Test func fullTextEntryReplacedWithTextOfTheSameLength() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(
            """
            INSERT INTO fts1.events_fts (events_fts, rowid, line) SELECT 'delete', id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE id = 7;
            INSERT INTO fts1.events_fts (rowid, line) SELECT 7, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE id = 8;
            """
        )
        let report = try await fixture.verify()
        #expect(report.kinds == [.ftsMismatch])
        #expect(report.first(.ftsMismatch)?.rowID == 7)
        #expect(report.first(.ftsMismatch)?.detail.contains("other tokens") == true)
    }

    /// The hunt columns of the full-text index (`program` and the parsed fields) hide events from `hunt` when
    /// edited: a row's entry replaced, a document planted for no event.
    @Test func huntIndexEntriesReplacedOrPlanted() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        #expect(try await fixture.verify().findings == [])
        try fixture.tamper(
            """
            INSERT INTO fts1.events_fts (events_fts, rowid, line, program, fields)
                SELECT 'delete', id, CAST(event_line(line, batch_id, idx) AS TEXT), program, '' FROM events WHERE id = 7;
            INSERT INTO fts1.events_fts (rowid, line, program, fields)
                SELECT 7, CAST(event_line(line, batch_id, idx) AS TEXT), 'cron', '' FROM events WHERE id = 7;
            INSERT INTO fts.events_fts (rowid, program, fields) VALUES (5000, 'planted', 'action consent');
            """
        )
        let report = try await fixture.verify()
        #expect(report.kinds == [.ftsMismatch, .ftsOrphan])
        #expect(report.first(.ftsMismatch)?.rowID == 7)
        #expect(report.first(.ftsMismatch)?.detail.contains("program and fields") == true)
        #expect(report.first(.ftsOrphan)?.rowID == 5000)
    }

    /// A document in the full-text file that should not hold it (here row 8's text, whose event is in the first
    /// file, indexed in the second too): `--match` would find the event twice, or find it in a file it was moved to
    /// when the other is rebuilt. A finding of its own, naming both files.
    @Test func aDocumentInTheWrongIndexFile() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(
            "INSERT INTO fts1.events_fts (rowid, line) SELECT id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE id = 8"
        )
        let report = try await fixture.verify()
        #expect(report.kinds == [.ftsOrphan])
        #expect(report.first(.ftsOrphan)?.rowID == 8)
        #expect(report.first(.ftsOrphan)?.detail.contains("file 1 holds") == true)
        #expect(report.first(.ftsOrphan)?.detail.contains("belongs in file 0") == true)
    }

    /// An incremental run (after a clean full one) finds a document planted past the last clean run in the file
    /// that should not hold it, through its per-row look-ups instead of the full scan.
    @Test func aDocumentInTheWrongIndexFileAfterACleanRun() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        #expect(try await fixture.verify().findings == [])
        // Event 42 does not exist; the layout would give it to the first file.
        try fixture.tamper("INSERT INTO fts1.events_fts (rowid, line) VALUES (42, 'planted evidence')")
        let report = try await fixture.verify(mode: .incremental)
        #expect(report.mode == .incremental)
        #expect(report.kinds == [.ftsOrphan])
        #expect(report.first(.ftsOrphan)?.rowID == 42)
        #expect(report.first(.ftsOrphan)?.detail.contains("file 1 holds 2 tokens") == true)
    }

    /// Lines that are not ASCII, or not even UTF-8, are indexed as the indexer repairs them; a clean store with
    /// them verifies clean, and an edit to their index entry is still seen.
    @Test func nonASCIIAndInvalidUTF8LinesVerifyAgainstTheIndex() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let agent = TestAgent(name: "ws-raw")
        let lines: [[UInt8]] = [
            Array("Zoë Ångström logged in from café".utf8),
            [0x66, 0x6f, 0x6f, 0x20, 0xff, 0xfe, 0x20, 0x62, 0x61, 0x72],
            Array("plain ascii line".utf8) + [0xc3],
            Array("日本語 ログイン user=mchen".utf8),
        ]
        let events = lines.enumerated().map { n, line in
            var event = agent.events(1, prefix: "x")[0]
            event.timeNanos += Int64(n)
            event.line = line
            // A field the hunt index keeps (not a column), with characters JSON escapes.
            event.fields.append(Event.Field("action", "consent to \"Data Loader\"\t\(n)"))
            return event
        }
        let store = try SQLiteStore(path: path)
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        try await agent.ingest([try agent.batch(sequence: 1, previous: .zero, events: events)], into: store)
        try await store.drainFullTextIndex()
        let signer = try AggregatorKeyFile.loadOrCreate(dir.file("aggregator.key"))
        let options = VerifyOptions(mode: .full, verifier: signer.verifier, nowNanos: nowNanos())
        let clean = try await store.verify(options)
        #expect(clean.findings == [])
        #expect(clean.eventsChecked == 4)
        let queue = try DatabaseQueue(path: path + ".fts")
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO events_fts (events_fts, rowid, line) VALUES ('delete', 2, ?)",
                arguments: [String(decoding: lines[1], as: UTF8.self)]
            )
            try db.execute(sql: "INSERT INTO events_fts (rowid, line) VALUES (2, 'foo baz')")
        }
        let tampered = try await store.verify(options)
        #expect(tampered.kinds == [.ftsMismatch])
        #expect(tampered.first(.ftsMismatch)?.rowID == 2)
    }

    /// An insider rewrites the definition of the host index so that its entries no longer match the rows (the
    /// effect of editing its pages): filtered queries would miss rows. Only SQLite's own check (`--deep`) sees it.
    @Test func editedSecondaryIndexIsCaughtByTheDeepCheck() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        #expect(try await fixture.verify(deep: true).findings == [])
        let queue = try DatabaseQueue(path: fixture.path)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: """
                    UPDATE sqlite_schema SET sql = 'CREATE INDEX events_host_time ON events(source, time_ns)'
                    WHERE name = 'events_host_time'
                    """
            )
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
        #expect(try await fixture.verify().findings == [], "the rows and batches themselves are intact")
        let report = try await fixture.verify(deep: true)
        #expect(report.kinds == [.storageCorrupt])
        #expect(report.first(.storageCorrupt)?.detail.contains("events_host_time") == true)
    }

    @Test func deletedBatch() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper("DELETE FROM events WHERE batch_id = 2; DELETE FROM batches WHERE id = 2")
        let report = try await fixture.verify()
        #expect(report.kinds.isSuperset(of: [.batchDeleted, .gap, .chainHeadMismatch]))
        #expect(report.first(.gap)?.agent == "ws-a")
        #expect(report.first(.gap)?.sequence == 3)
        #expect(report.first(.batchDeleted)?.batchID == 2)
    }

    /// Sequence 0 does not exist (§8); a row edited to it, or to −1 (2^64 − 1 read unsigned), meets the chain rule in
    /// verify and must be a finding, not a trap on `sequence - 1` or a gap of 2^64 − 2 batches.
    @Test(arguments: [0, -1])
    func batchRowEditedToAnImpossibleSequence(_ sequence: Int64) async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        #expect(try await fixture.verify().findings == [])
        try fixture.tamper("UPDATE batches SET seq = ? WHERE id = 1", arguments: [sequence])
        let full = try await fixture.verify()
        #expect(full.kinds.contains(.batchRowMismatch))
        #expect(full.first(.batchRowMismatch)?.batchID == 1)
        #expect(!full.kinds.contains(.gap), "no gap is invented from an impossible sequence")
        let incremental = try await fixture.verify(mode: .incremental)
        #expect(!incremental.kinds.contains(.gap))
    }

    /// The insider removes ws-b's last two batches with everything that points at them: rows, full-text entries,
    /// chain head, leaves, tree nodes and stored checkpoints. Only a checkpoint copied off the machine sees it.
    @Test func deletedTailOfAChainWithCoverUp() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(
            """
            INSERT INTO fts.events_fts (events_fts, rowid, line)
                SELECT 'delete', id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE batch_id IN (7, 8) AND id % 2 = 0;
            INSERT INTO fts1.events_fts (events_fts, rowid, line)
                SELECT 'delete', id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE batch_id IN (7, 8) AND id % 2 = 1;
            DELETE FROM events WHERE batch_id IN (7, 8);
            DELETE FROM batches WHERE id IN (7, 8);
            UPDATE chains SET head_seq = 2, head_hash = (SELECT hash FROM batches WHERE id = 6), batches = 2, events = 10
                WHERE agent_id = 2;
            DELETE FROM merkle_leaves WHERE leaf_index >= 6;
            DELETE FROM merkle_nodes WHERE (idx + 1) << level > 6;
            """
        )
        let withStoredCheckpoint = try await fixture.verify()
        #expect(withStoredCheckpoint.kinds == [.checkpointInconsistent])
        try fixture.tamper("DELETE FROM checkpoints")
        #expect(try await fixture.verify().findings == [], "without a checkpoint the cover-up is complete")
        let report = try await fixture.verify(external: fixture.externalNote)
        #expect(report.kinds == [.checkpointInconsistent])
        #expect(report.first(.checkpointInconsistent)?.detail.contains("external checkpoint #1") == true)
        let incremental = try await fixture.verify(mode: .incremental, external: fixture.externalNote)
        #expect(incremental.kinds.contains(.checkpointInconsistent))
    }

    @Test func deletedAgentWithCoverUpIsCaughtByTheCheckpoint() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper(
            """
            INSERT INTO fts.events_fts (events_fts, rowid, line)
                SELECT 'delete', id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE agent_id = 1 AND id % 2 = 0;
            INSERT INTO fts1.events_fts (events_fts, rowid, line)
                SELECT 'delete', id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM events WHERE agent_id = 1 AND id % 2 = 1;
            DELETE FROM events WHERE agent_id = 1; DELETE FROM batches WHERE agent_id = 1;
            DELETE FROM chains WHERE agent_id = 1; DELETE FROM agent_keys WHERE agent_id = 1;
            DELETE FROM agents WHERE id = 1;
            DELETE FROM merkle_leaves WHERE batch_id <= 4;
            """
        )
        let report = try await fixture.verify()
        #expect(report.kinds.contains(.checkpointInconsistent))
    }

    @Test func swappedEnvelopes() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        let (one, two) = (try fixture.envelope(batchID: 1), try fixture.envelope(batchID: 2))
        try fixture.tamper("UPDATE batches SET envelope = ? WHERE id = 1", arguments: [two])
        try fixture.tamper("UPDATE batches SET envelope = ? WHERE id = 2", arguments: [one])
        let report = try await fixture.verify()
        #expect(report.kinds.isSuperset(of: [.hashMismatch, .batchRowMismatch]))
        #expect(Set(report.findings.filter { $0.kind == .hashMismatch }.compactMap(\.batchID)) == [1, 2])
    }

    @Test func replacedAgentKey() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        let impostor = Curve25519.Signing.PrivateKey().publicKey
        try fixture.tamper(
            "UPDATE agents SET public_key = ?, key_id = ? WHERE name = 'ws-a'",
            arguments: [impostor.rawRepresentation, Data(KeyID.of(impostor).bytes)]
        )
        let report = try await fixture.verify()
        // The enrolled key is no longer the one its key history holds: the history's key is not trusted either,
        // so its four batches are signed by no key ws-a holds.
        #expect(report.kinds == [.unknownKey, .agentKeyAltered])
        #expect(report.findings.filter { $0.kind == .unknownKey }.count == 4)
        // The insider rewrites the history too: the batches still name a key ws-a was never enrolled with.
        try fixture.tamper(
            "UPDATE agent_keys SET public_key = ?, key_id = ? WHERE agent_id = (SELECT id FROM agents WHERE name = 'ws-a')",
            arguments: [impostor.rawRepresentation, Data(KeyID.of(impostor).bytes)]
        )
        let rewritten = try await fixture.verify()
        #expect(rewritten.kinds == [.unknownKey])
        #expect(rewritten.findings.count == 4)
        // Only the key, not its id: the stored pair no longer matches.
        try fixture.tamper("UPDATE agents SET key_id = ? WHERE name = 'ws-a'", arguments: [Data(fixture.a.keyID.bytes)])
        #expect(try await fixture.verify().kinds.contains(.agentKeyAltered))
    }

    @Test func batchReceivedAfterRevocation() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper("UPDATE agents SET revoked_ns = 2 WHERE name = 'ws-b'")
        let report = try await fixture.verify()
        #expect(report.kinds == [.keyNotValidAtReceipt])
        #expect(report.findings.count == 4)
    }

    @Test func rewrittenMerkleTables() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 1")
        #expect(try await fixture.verify().kinds.contains(.treeMismatch))
        // Restore, then reorder two leaves and recompute nothing else.
        try fixture.tamper("UPDATE merkle_leaves SET batch_id = -batch_id WHERE leaf_index IN (0, 1)")
        try fixture.tamper(
            "UPDATE merkle_leaves SET batch_id = CASE batch_id WHEN -1 THEN 2 ELSE 1 END WHERE leaf_index IN (0, 1)"
        )
        let report = try await fixture.verify()
        #expect(report.kinds.isSuperset(of: [.leafMismatch, .checkpointInconsistent]))
    }

    @Test func forgedStoredCheckpoint() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        let forger = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        let forged = try forger.sign(Checkpoint(origin: fixture.signer.verifier.name, size: 3, rootHash: .zero))
        try fixture.tamper(
            "INSERT INTO checkpoints (tree_size, root_hash, signed_ns, origin, note) VALUES (3, zeroblob(32), 0, ?, ?)",
            arguments: [forged.checkpoint.origin, forged.note]
        )
        #expect(try await fixture.verify().kinds == [.checkpointBadSignature])
        // Without the trusted key nothing can be authenticated: that is a failure too.
        let store = try SQLiteStore(path: fixture.path)
        let blind = try await store.verify(VerifyOptions(verifier: nil, nowNanos: nowNanos()))
        #expect(blind.kinds.contains(.checkpointUnverifiable))
    }

    @Test func missingCheckpointLongAfterStoring() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        try fixture.tamper("DELETE FROM checkpoints")
        let store = try SQLiteStore(path: fixture.path)
        let later = try await store.verify(
            VerifyOptions(verifier: fixture.signer.verifier, nowNanos: nowNanos() + 3_600_000_000_000)
        )
        #expect(later.kinds == [.checkpointMissing])
    }

    @Test func truncatedDatabaseFileIsReportedNotCrashed() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: fixture.path)[.size] as? Int)
        let handle = try #require(FileHandle(forUpdatingAtPath: fixture.path))
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        do {
            let report = try await fixture.verify()
            #expect(!report.isClean)
        } catch {
            // Could not run: the command exits 2.
            #expect(error is StoreError)
        }
    }
}

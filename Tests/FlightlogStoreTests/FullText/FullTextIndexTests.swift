import FlightlogEvidence
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import NIOConcurrencyHelpers
import Testing

@testable import FlightlogStore

/// The full-text index in its own file: it trails the commit, reports its lag, survives crashes without losing or
/// duplicating rows, and serves `--match` queries and `verify` once it has caught up.
@Suite struct FullTextIndexTests {
    /// Stores `batches` × 5 events of `agent` through the store directly (no indexer running).
    private func stored(_ store: SQLiteStore, _ agent: TestAgent, batches: Int, tag: String = "line") async throws {
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        var previous = Bytes32.zero
        for sequence in 1...batches {
            var events = agent.events(5, prefix: "\(agent.name) \(tag) b\(sequence)")
            events[0].line = Array("sshd[1]: Failed password for root from 203.0.113.77 port 4711 b\(sequence)".utf8)
            let batch = try agent.batch(sequence: UInt64(sequence), previous: previous, events: events)
            previous = batch.hash
            let outcomes = try await store.ingest([
                IngestItem(agentID: record.id, batch: batch, events: events, receivedNanos: 1)
            ])
            #expect(outcomes == [.stored])
        }
    }

    private func verify(_ store: SQLiteStore) async throws -> VerifyReport {
        try await store.verify(VerifyOptions(verifier: nil, nowNanos: 1))
    }

    /// The FTS5 tables of the full-text file, in the order the helpers below report them (one since index-file
    /// migration v8).
    private static let tables = ["events_fts"]

    /// An FTS5 option as each table stores it (nil where it was never set).
    private static func option(_ key: String, _ fts: DatabaseQueue) async throws -> [Int?] {
        try await fts.read { db in
            try Self.tables.map { table in
                try Int.fetchOne(db, sql: "SELECT v FROM \(table)_config WHERE k = ?", arguments: [key])
            }
        }
    }

    /// `verify` finds nothing wrong with the full-text indexes, and they trail the commit by nothing.
    private func expectIndexedAndClean(
        _ store: SQLiteStore,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let report = try await self.verify(store)
        #expect(Self.indexFindings(report).isEmpty, sourceLocation: sourceLocation)
        #expect(report.fullTextLag == 0, sourceLocation: sourceLocation)
    }

    /// What `verify` found wrong with the full-text indexes.
    private static func indexFindings(_ report: VerifyReport) -> [VerifyFinding] {
        report.findings.filter { $0.kind == .ftsMismatch || $0.kind == .ftsOrphan }
    }

    @Test func indexTrailsTheCommitAndVerifyReportsTheLagInsteadOfFindings() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        try await self.stored(store, TestAgent(name: "ft-lag"), batches: 3)
        #expect(try await store.fullTextProgress() == FullTextProgress(indexedThrough: 0, latestEventID: 15))
        #expect(try await store.counts().fullText == 0)
        let early = try await self.verify(store)
        #expect(Self.indexFindings(early).isEmpty)
        #expect(early.fullTextLag == 15)
        #expect(early.summary.contains("full-text index trailing by 15 events"))

        try await store.drainFullTextIndex()
        #expect(try await store.fullTextProgress().lag == 0)
        #expect(try await store.counts().fullText == 15)
        try await self.expectIndexedAndClean(store)
    }

    @Test func anInterruptedIndexingTransactionLeavesNeitherRowsNorWatermark() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            try await self.stored(store, TestAgent(name: "ft-crash"), batches: 4)
            // The first file takes the even ids, the second the odd ones.
            #expect(try await store.indexers[0].indexNext(limit: 7) == 7)
            #expect(try await store.indexers[1].indexNext(limit: 3) == 3)
            #expect(try await store.counts().fullText == 10)
        }
        // A crash in the middle of the first file's next indexing transaction: rows written, watermark moved,
        // never committed.
        let crashed = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        try await crashed.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS store", arguments: [path])
            try EventContentFunctions.register(db, schema: "store")
            try db.execute(sql: "BEGIN")
            try db.execute(
                sql: """
                    INSERT INTO events_fts (rowid, line)
                        SELECT id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM store.events WHERE id > 14 AND id % 2 = 0;
                    UPDATE fts_progress SET indexed_through = 20;
                    """
            )
            try db.execute(sql: "ROLLBACK")
        }
        try crashed.close()

        // Restart: the committed watermarks say where to resume (the second file's, 5, is the lower); nothing is
        // indexed twice.
        let store = try SQLiteStore(path: path)
        #expect(try await store.fullTextProgress() == FullTextProgress(indexedThrough: 5, latestEventID: 20))
        #expect(store.indexers.map(\.progress.indexedThrough) == [14, 5])
        #expect(try await store.counts().fullText == 10)
        try await store.drainFullTextIndex()
        #expect(try await store.counts().fullText == 20)
        try await store.drainFullTextIndex()
        #expect(try await store.counts().fullText == 20)
        try await self.expectIndexedAndClean(store)
    }

    @Test func queryMatchFindsEventsOnceIndexed() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path)
        try await self.stored(store, TestAgent(name: "ft-query"), batches: 3)
        var query = EventQuery()
        query.match = "\"203.0.113.77\""
        #expect(try store.countEvents(query) == 0)
        try await store.drainFullTextIndex()
        #expect(try store.countEvents(query) == 3)
        // An investigator's read-only store sees the same index through the attached file.
        let reader = try SQLiteStore(readOnlyPath: path)
        #expect(try reader.countEvents(query) == 3)
        query.match = "\"203.0.113\" AND b2"
        #expect(try reader.countEvents(query) == 1)
    }

    /// The indexers take each row's line and fields from its batch: the batches ingest just decoded while `serve`
    /// runs, the stored envelopes after a restart. A batch whose envelope no longer inflates does not stop the
    /// index: its rows are indexed without line or fields (verify reports the batch), and the rest as before.
    @Test func indexingReadsTheBatchesAndGoesPastOneThatNoLongerInflates() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        var query = EventQuery()
        query.match = "\"203.0.113.77\""
        do {
            let store = try SQLiteStore(path: path)
            try await self.stored(store, TestAgent(name: "ft-recent"), batches: 2)
            try await store.drainFullTextIndex()
            #expect(try store.countEvents(query) == 2)
            try await self.stored(store, TestAgent(name: "ft-restart"), batches: 3)
        }
        // Batch 4 (ft-restart's second) damaged while the store was closed: its payload no longer inflates.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql:
                    "UPDATE batches SET envelope = substr(envelope, 1, 200) || x'00' || substr(envelope, 202) WHERE id = 4"
            )
        }
        try queue.close()
        let store = try SQLiteStore(path: path)
        try await store.drainFullTextIndex()
        #expect(try await store.fullTextProgress() == FullTextProgress(indexedThrough: 25, latestEventID: 25))
        // Every line but the damaged batch's is found; its events are in the index, without their text.
        #expect(try store.countEvents(query) == 4)
        query.match = "b3"
        #expect(try store.countEvents(query) == 5)
        #expect(try await store.counts().fullText == 25)
        let report = try await self.verify(store)
        #expect(report.findings.contains { $0.kind == .batchMalformed && $0.batchID == 4 })
    }

    /// The indexer reads each row in place: a line that is not ASCII is indexed as UTF-8, one that is not UTF-8 as
    /// its bytes with the invalid ones replaced (what `verify` expects from the authentic line), and `program` and
    /// the fields go to the hunt index as read from the row.
    @Test func linesThatAreNotASCIIOrNotUTF8AreIndexedAsVerifyExpects() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path)
        let agent = TestAgent(name: "ft-bytes")
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        var events = agent.events(3, prefix: "bytes")
        events[0].line = Array("sshd[7]: Accepted password for zoë from 198.51.100.7 port 22".utf8)
        // A truncated sequence: SQLite's tokenizer would read E9 80 as the letter U+0240 and join the words around
        // it into one token; decoded as UTF-8 it is one U+FFFD, which separates them.
        events[1].line =
            Array("sshd[8]: Failed password for mallory".utf8) + [0xe9, 0x80] + Array("x from 198.51.100.8".utf8)
        events[2].fields = [Event.Field("program", "sshd"), Event.Field("auth_method", "clé")]
        let batch = try agent.batch(sequence: 1, previous: .zero, events: events)
        let outcomes = try await store.ingest([
            IngestItem(agentID: record.id, batch: batch, events: events, receivedNanos: 1)
        ])
        #expect(outcomes == [.stored])
        try await store.drainFullTextIndex()

        var query = EventQuery()
        for (match, count) in [("zoë", 1), ("\"198.51.100.7\"", 1), ("mallory", 1), ("\"198.51.100.8\"", 1)] {
            query.match = match
            #expect(try store.countEvents(query) == count, "\(match)")
        }
        let hunted = try await store.read { db in
            try Int64.fetchAll(
                db,
                sql: "SELECT id FROM events_fts_all WHERE events_fts MATCH 'fields : \"auth_method clé\"'"
            )
        }
        #expect(hunted == [3])
        try await self.expectIndexedAndClean(store)
    }

    /// While the indexer fails, ingestion does not wait on the lag bound: evidence is stored whether or not it can
    /// be indexed yet. Once it indexes again, the bound applies again.
    @Test func whileTheIndexerFailsIngestionDoesNotWaitOnTheLagBound() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path, fullTextBusyTimeout: 0.05)
        try await self.stored(store, TestAgent(name: "ft-bound"), batches: 2)
        let indexer = store.indexers[0]
        let lock = try await WriteLockHolder(FullTextLayout.path(for: path, file: 0))
        let failures = NIOLockedValueBox<[String]>([])
        let indexing = Task {
            try await store.maintainIndexes { progress in
                if let failure = progress.failure { failures.withLockedValue { $0.append(failure) } }
            }
        }
        defer { indexing.cancel() }
        try await eventually { !failures.withLockedValue { $0 }.isEmpty }
        // The reason names the file that failed; the other file's indexer goes on.
        let failure = failures.withLockedValue { $0 }.first ?? ""
        #expect(failure.hasPrefix(FullTextLayout.path(for: path, file: 0) + ": "), "\(failure)")
        #expect(failure.contains("database is locked"), "\(failure)")
        try await eventually { store.indexers[1].progress.lag == 0 }

        // A bound of 0 with 10 events unindexed: satisfied only because the indexer is failing. (A task of its
        // own, so that a wait that never ends fails the test instead of hanging it.)
        let passed = NIOLockedValueBox(false)
        Task {
            await indexer.waitForLag(atMost: 0)
            passed.withLockedValue { $0 = true }
        }
        try await eventually(seconds: 30) { passed.withLockedValue { $0 } }
        #expect(indexer.progress.lag == 10)

        try await lock.release()
        try await eventually { indexer.progress.failure == nil && indexer.progress.lag == 0 }
        indexing.cancel()
        try await self.expectIndexedAndClean(store)
    }

    /// The lag bound counts from the lowest lag since the indexer started. An index being rebuilt (an upgraded or
    /// damaged `DB.fts`: every stored event to index) does not hold ingestion back while the indexer gains on it;
    /// ingestion that outruns it waits once the lag is `maxLag` past its lowest. On a caught-up index the bound is
    /// the plain lag, as before.
    @Test func theLagBoundCountsFromWhereARebuildStarted() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        try await self.stored(try SQLiteStore(path: path), TestAgent(name: "ft-rebuild"), batches: 3)
        // A store of 15 events whose index is being rebuilt from the first.
        let store = try SQLiteStore(path: path)
        let indexer = store.indexers[0]
        #expect(indexer.progress.lag == 15)
        #expect(indexer.progress.lowestLag == 15)
        #expect(indexer.progress.isWithinBound(0), "a rebuild must not hold ingestion back at its start")

        // The first file's events 2, 4, 6 and 8.
        #expect(try await indexer.indexNext(limit: 4) == 4)
        #expect(indexer.progress.lowestLag == 7)
        // Ingestion outruns the indexer: 5 more events, a lag of 12, 5 past its lowest.
        try await self.stored(store, TestAgent(name: "ft-rebuild-2"), batches: 1)
        #expect(indexer.progress.lag == 12)
        #expect(indexer.progress.isWithinBound(5))
        #expect(!indexer.progress.isWithinBound(4))

        try await store.drainFullTextIndex()
        #expect(indexer.progress.lowestLag == 0)
        #expect(indexer.progress.isWithinBound(0))
        try await self.expectIndexedAndClean(store)
    }

    /// Cancelling the indexer (`serve` stopping) does not interrupt its transaction: it commits, and the indexer
    /// stops after it. GRDB interrupts the connection of a cancelled access, and an interrupted FTS5 write can leave
    /// a transaction that cannot be rolled back, which GRDB answers by stopping the process.
    @Test func aCancelledIndexerFinishesItsTransaction() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        try await self.stored(store, TestAgent(name: "ft-cancel"), batches: 2)
        let indexer = store.indexers[0]
        let indexing = Task {
            // Cancelled before the transaction starts: without a task of its own, GRDB would refuse to start it.
            withUnsafeCurrentTask { $0?.cancel() }
            return try await indexer.indexNext()
        }
        #expect(try await indexing.value == 5)
        #expect(indexer.progress.indexedThrough == 10)
    }

    /// A full-text file that is not a database (overwritten, truncated, a disk error): readers and writers other
    /// than `serve` say which file it is and that the evidence is not affected; `serve`'s open moves it aside,
    /// keeps it, and rebuilds the index from the stored events.
    @Test(arguments: 0..<FullTextLayout.fileCount)
    func aDamagedIndexFileIsNamedOrMovedAsideAndRebuilt(file: Int) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let ftsPath = FullTextLayout.path(for: path, file: file)
        do {
            let store = try SQLiteStore(path: path)
            try await self.stored(store, TestAgent(name: "ft-damaged"), batches: 3)
            try await store.drainFullTextIndex()
        }
        let garbage = Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: ftsPath))
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ftsPath + suffix) }

        #expect(throws: StoreError.fullTextDamaged(path: ftsPath, reason: "file is not a database")) {
            _ = try SQLiteStore(path: path)
        }
        #expect(throws: StoreError.fullTextDamaged(path: ftsPath, reason: "file is not a database")) {
            _ = try SQLiteStore(readOnlyPath: path)
        }
        #expect(FileManager.default.contents(atPath: ftsPath) == garbage, "left as it was")
        // Left out, it takes the whole index with it: no --match from half of it.
        let reader = try SQLiteStore(readOnlyPath: path, onDamagedIndex: .leaveOut)
        #expect(reader.leftOutFullText.map(\.path) == [ftsPath])
        var match = EventQuery()
        match.match = "\"203.0.113.77\""
        #expect(
            throws: StoreError.database(
                "\(StoreError.fullTextDamaged(path: ftsPath, reason: "file is not a database"))"
            )
        ) {
            try reader.countEvents(match)
        }

        let store = try SQLiteStore(path: path, onDamagedIndex: .moveAsideAndRebuild)
        #expect(store.movedDamagedFullText.count == 1)
        let moved = try #require(store.movedDamagedFullText.first)
        #expect(moved.hasPrefix(ftsPath + ".damaged-"))
        #expect(FileManager.default.contents(atPath: moved) == garbage, "kept, not deleted")
        #expect(try await store.fullTextProgress() == FullTextProgress(indexedThrough: 0, latestEventID: 15))
        try await store.drainFullTextIndex()
        #expect(try await store.counts().fullText == 15)
        #expect(try store.countEvents(match) == 3)
        try await self.expectIndexedAndClean(store)
    }

    /// A full-text file that is a database but no index (no `events_fts`, no `fts_progress`: a file from elsewhere
    /// under that name) does not stop the reader: searches without `--match` work, `--match` says there is no
    /// complete index, and the whole index counts as trailing.
    @Test func aDatabaseThatIsNoIndexFileIsNotSearched() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            try await self.stored(store, TestAgent(name: "ft-foreign"), batches: 2)
            try await store.drainFullTextIndex()
        }
        let second = FullTextLayout.path(for: path, file: 1)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: second + suffix) }
        let foreign = try DatabaseQueue(path: second)
        try await foreign.write { db in try db.execute(sql: "CREATE TABLE unrelated (x)") }
        try foreign.close()

        let reader = try SQLiteStore(readOnlyPath: path)
        var host = EventQuery()
        host.host = "ft-foreign"
        #expect(try reader.countEvents(host) == 10)
        #expect(try await reader.fullTextProgress() == FullTextProgress(indexedThrough: 0, latestEventID: 10))
        var match = EventQuery()
        match.match = "\"203.0.113.77\""
        #expect {
            try reader.countEvents(match)
        } throws: { error in
            "\(error)".contains("hold no complete index")
        }
    }

    /// Reads both watermarks of the full-text file.
    private func watermarks(_ path: String) throws -> (line: Int64, attrs: Int64) {
        let fts = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        defer { try? fts.close() }
        let row = try fts.read { db in
            try Row.fetchOne(db, sql: "SELECT indexed_through, attrs_indexed_through FROM fts_progress")
        }
        return (row?[0] ?? -1, row?[1] ?? -1)
    }

    /// A full-text file in the layout before index-file migration v8 (the line in `events_fts`, `program` and the
    /// fields in `events_attrs`) is rebuilt as one table by the next writer to open the store: queries and hunts
    /// find the same events, and `verify` passes. Until then a reader finds it in its old layout, where `--match`
    /// works (see `ReadOnlyMediaTests` for `verify` and `hunt` there).
    @Test func aFileInTheTwoTableLayoutIsRebuiltAsOneTable() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        do {
            let store = try SQLiteStore(path: path)
            try await self.stored(store, TestAgent(name: "ft-upgrade"), batches: 3)
        }
        // The file as version 7 of its schema left it, filled from the stored events.
        let fts = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        try await fts.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS store", arguments: [path])
            try OlderIndexFile.writeTwoTableLayout(db)
        }
        try fts.close()
        OlderIndexFile.removeSecondFile(of: path)
        var match = EventQuery()
        match.match = "\"203.0.113.77\" AND b2"
        do {
            let reader = try SQLiteStore(readOnlyPath: path)
            #expect(try reader.countEvents(match) == 1)
        }

        let store = try SQLiteStore(path: path)
        #expect(try self.watermarks(path) == (0, 0))
        #expect(store.indexers.map(\.layout) == [FullTextLayout(splitAfter: 0), FullTextLayout(splitAfter: 0)])
        // The open only renamed the old tables (dropping them reads all their pages); the indexer drops them as it
        // starts.
        func retired() async throws -> [String] {
            try await store.read { db in
                try String.fetchAll(
                    db,
                    sql: "SELECT name FROM fts.sqlite_master WHERE name IN ('events_fts_v7', 'events_attrs')"
                )
            }
        }
        #expect(try await retired().sorted() == ["events_attrs", "events_fts_v7"])
        let indexing = Task { try await store.maintainIndexes { _ in } }
        defer { indexing.cancel() }
        try await eventually {
            let left = try await retired()
            let lag = try await store.fullTextProgress().lag
            return left.isEmpty && lag == 0
        }
        indexing.cancel()
        #expect(try self.watermarks(path) == (15, 15))
        #expect(try store.countEvents(match) == 1)
        try await self.expectIndexedAndClean(store)
    }

    /// A store indexed in one file (before index-file migration v9) is split where that file's indexer had come:
    /// the file keeps every event it indexed, and the events after go to both files. Nothing is indexed again or
    /// twice, and queries and `verify` see the whole index. Before the upgrade, a reader uses the one file.
    @Test func anIndexInOneFileIsSplitWhereItsIndexerHadCome() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        try await self.stored(try SQLiteStore(path: path), TestAgent(name: "ft-split"), batches: 3)
        // One file holding every event, as the indexer of a version before the split filled it: here the current
        // indexer with the split past every event, then the file rolled back to before v9.
        let first = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        try await first.write { db in try db.execute(sql: "UPDATE fts_progress SET split_after = 1000000") }
        try first.close()
        try await SQLiteStore(path: path).drainFullTextIndex()
        let fts = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        try await fts.write { db in try db.execute(sql: OlderIndexFile.singleFileSQL) }
        try fts.close()
        OlderIndexFile.removeSecondFile(of: path)

        var match = EventQuery()
        match.match = "\"203.0.113.77\""
        do {
            let reader = try SQLiteStore(readOnlyPath: path)
            #expect(try reader.countEvents(match) == 3)
            #expect(try await reader.fullTextProgress() == FullTextProgress(indexedThrough: 15, latestEventID: 15))
        }

        let store = try SQLiteStore(path: path)
        #expect(store.indexers.map(\.layout) == [FullTextLayout(splitAfter: 15), FullTextLayout(splitAfter: 15)])
        #expect(store.indexers.map(\.progress.indexedThrough) == [15, 15])
        #expect(try await store.fullTextProgress().lag == 0)
        try await self.stored(store, TestAgent(name: "ft-split-2"), batches: 2)
        try await store.drainFullTextIndex()
        #expect(try await store.counts().fullText == 25)
        #expect(try store.countEvents(match) == 5)
        // The second file holds the odd events after the split only.
        let second = try await store.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM fts1.events_fts_docsize ORDER BY id")
        }
        #expect(second == [17, 19, 21, 23, 25])
        try await self.expectIndexedAndClean(store)
    }

    /// A new full-text file has 16 KiB pages and 16,000-byte FTS5 leaves; a file an older version created with
    /// 4 KiB pages keeps FTS5's default leaves (larger ones would spill into overflow pages). Both serve queries and
    /// pass `verify`.
    @Test(arguments: [4096, FullTextIndexer.pageSize])
    func pageAndLeafSizeOfTheFullTextFile(pageSize: Int) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        if pageSize != FullTextIndexer.pageSize {
            try FullTextSegmentReaderTests.createFullTextFile(for: path, pageSize: pageSize)
        }
        let store = try SQLiteStore(path: path)
        try await self.stored(store, TestAgent(name: "ft-pages"), batches: 4)
        try await store.drainFullTextIndex()

        let fts = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        let size = try await fts.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") }
        let leaves = try await Self.option("pgsz", fts)
        try fts.close()
        #expect(size == pageSize)
        let expectedLeaves: Int? = pageSize == FullTextIndexer.pageSize ? FullTextIndexer.leafSize : nil
        #expect(leaves == [expectedLeaves])

        var query = EventQuery()
        query.match = "\"203.0.113.77\" AND b3"
        #expect(try store.countEvents(query) == 1)
        try await self.expectIndexedAndClean(store)
    }

    /// FTS5 merges a level in the running transaction once it holds `crisismerge` segments. At its default (16, the
    /// same as our `automerge`) every merge was such a merge, and at 5.12 M events one transaction rewrote ~1.3 GB.
    /// With 64 the merges run a little at a time after each transaction: level 0 may hold more than 16 segments
    /// while they do, which the default never allowed.
    @Test func segmentsAreMergedIncrementallyNotAllInOneTransaction() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path)
        let transactions = 80
        // Two batches per transaction of the first file, which holds every other event.
        try await self.stored(store, TestAgent(name: "ft-merge"), batches: 2 * transactions)
        let fts = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        defer { try? fts.close() }
        var most = 0
        var last = 0
        for _ in 1...transactions {
            // One indexing transaction per batch: one new level-0 segment.
            #expect(try await store.indexers[0].indexNext(limit: 5) == 5)
            for table in Self.tables {
                let structure = try await fts.read { db in
                    try Data.fetchOne(db, sql: "SELECT block FROM \(table)_data WHERE id = 10") ?? Data()
                }
                last = try FullTextSegmentReader.segments(Array(structure)).segments.count
                most = max(most, last)
            }
        }
        #expect(most > 16, "a level was merged all at once: \(most) segments at most")
        // Merged 32 at a time (index-file migration v7), a little per transaction: done within 80 transactions.
        #expect(last < transactions, "nothing was merged: \(last) segments")
        #expect(try await Self.option("crisismerge", fts) == [64])
        #expect(try await Self.option("automerge", fts) == [32])
        try await store.drainFullTextIndex()
        try await self.expectIndexedAndClean(store)
    }

    /// The indexer's own decoding of `fields` gives the text SQLite's JSON decoder (the one `json_extract` uses)
    /// gives, and declines what it is unsure of.
    @Test func attributeTextIsWhatSQLiteDecodes() throws {
        let samples: [[Event.Field]] = [
            [],
            [Event.Field("action", "login"), Event.Field("outcome", "success")],
            [Event.Field("message", "skipped"), Event.Field("Program", "x"), Event.Field("event", "a")],
            [
                Event.Field("q", "say \"hi\" \\ back\nslash\t\u{1}end"),
                Event.Field("caf\u{e9}", "na\u{ef}ve \u{1F600}"),
            ],
            [Event.Field("dup", "one"), Event.Field("dup", "two"), Event.Field("", "")],
        ]
        let db = try DatabaseQueue()
        for fields in samples {
            let json = FieldsJSON.encode(fields)
            let pairs = try db.read { db in
                try Row.fetchAll(db, sql: "SELECT key, CAST(value AS TEXT) FROM json_each(?)", arguments: [json])
            }
            let expected = FieldsDocument.text(
                pairs: pairs.map { (key: ($0[0] as String?) ?? "", value: ($0[1] as String?) ?? "") }
            )
            #expect(FieldsDocument.text(fieldsJSON: json) == expected, "\(json)")
        }
        let mapped = #"{"action":"login","user":"mchen","Src_IP":"1.2.3.4"}"#
        #expect(FieldsDocument.text(fieldsJSON: mapped) == "action login\n")
        #expect(FieldsDocument.text(fieldsJSON: #"{"a":"\ud83d\ude00"}"#) == nil)
        #expect(FieldsDocument.text(fieldsJSON: #"{"a":1}"#) == nil)
        #expect(FieldsDocument.text(fieldsJSON: #"{"a":"b"} x"#) == nil)
    }
}

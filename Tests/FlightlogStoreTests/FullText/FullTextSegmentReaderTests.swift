import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// `verify` reads the full-text indexes from their segment records; what it reads must be exactly what
/// SQLite's own `fts5vocab` reads, on indexes with doclists and position lists spanning pages, several segments,
/// an incremental merge stopped half-way, and every column; and it must step aside for anything unusual.
@Suite struct FullTextSegmentReaderTests {
    /// Events whose indexes have long doclists (every line shares words), a position list longer than a page,
    /// several columns (the hunt index), non-ASCII words, stored through the store and indexed in many segments.
    ///
    /// `pageSize` 4096 builds the full-text file as versions before 16 KiB pages did (4 KiB pages, FTS5's default
    /// 4,050-byte leaves): there the doclists and the long position list span leaves, which 16,000-byte leaves no
    /// longer need for this little text.
    func database(
        _ dir: TempDirectory,
        batches: Int = 24,
        pageSize: Int = FullTextIndexer.pageSize
    ) async throws
        -> String
    {
        let path = dir.file("db.sqlite")
        if pageSize != FullTextIndexer.pageSize { try Self.createFullTextFile(for: path, pageSize: pageSize) }
        let store = try SQLiteStore(path: path)
        let agent = TestAgent(name: "seg-reader")
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        var previous = Bytes32.zero
        for sequence in 1...batches {
            var events = agent.events(200, prefix: "sshd[42]: Accepted publickey for mchen from 10.0.0.\(sequence)")
            for index in events.indices where index % 7 == 0 {
                events[index].fields = [
                    Event.Field("program", "crm-audit"), Event.Field("action", "login"),
                    Event.Field("src_ip", "203.0.113.\(index)"), Event.Field("note", "straße café \(sequence)"),
                ]
            }
            if sequence == 3 {
                events[5].line = Array((String(repeating: "again ", count: 3_000) + "end").utf8)
                events[6].line = Array("Grüße aus Köln – naïve café ÅÄÖ 東京".utf8)
            }
            let batch = try agent.batch(sequence: UInt64(sequence), previous: previous, events: events)
            previous = batch.hash
            _ = try await store.ingest([IngestItem(agentID: record.id, batch: batch, events: events, receivedNanos: 1)])
            // One indexing transaction per batch and file: one new segment each.
            for indexer in store.indexers { _ = try await indexer.indexNext(limit: 100) }
        }
        try await store.drainFullTextIndex()
        return path
    }

    /// Creates the (empty) full-text file of the database at `path` with `pageSize` pages, as an older version did.
    static func createFullTextFile(for path: String, pageSize: Int) throws {
        let queue = try DatabaseQueue(path: FullTextLayout.path(for: path, file: 0))
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = \(pageSize)")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try queue.close()
    }

    /// Reads each full-text file of the database at `path` through both readers.
    func compare(_ path: String, expectRefusal: Bool = false) throws {
        for fts in FullTextLayout.paths(for: path) { try self.compare(fts: fts, expectRefusal: expectRefusal) }
    }

    func compare(fts: String, expectRefusal: Bool) throws {
        let fast = try FullTextCheck.IndexScan.scan(path: fts, immutable: false, expectedDocuments: 10_000)
        let slow = try FullTextCheck.IndexScan.scan(
            path: fts,
            immutable: false,
            expectedDocuments: 10_000,
            segments: false
        )
        if expectRefusal {
            #expect(fast.segmentReaderRefused != nil)
        } else {
            #expect(fast.segmentReaderRefused == nil, "\(fast.segmentReaderRefused ?? "")")
        }
        #expect(fast.watermarks == slow.watermarks)
        #expect(fast.tally.counts.reduce(0) { $0 + Int($1) } > 1_000, "too few instances to mean anything")
        #expect(fast.tally.counts == slow.tally.counts)
        #expect(fast.tally.digests == slow.tally.digests)
        #expect(fast.extra.mapValues(\.count) == slow.extra.mapValues(\.count))
        #expect(fast.extra.mapValues(\.digest) == slow.extra.mapValues(\.digest))
        // Every column is read: the parsed fields' tokens (column 2) are among the instances.
        let queue = try DatabaseQueue(path: fts)
        defer { try? queue.close() }
        let inFields = try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events_fts_instance WHERE col = 'fields'") ?? 0
        }
        #expect(inFields > 100)
    }

    @Test(arguments: [4096, FullTextIndexer.pageSize])
    func readsWhatFTS5Reads(pageSize: Int) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = try await self.database(dir, pageSize: pageSize)
        try self.compare(path)
        // The long line's position list (spanning leaves of 4 KiB pages): every one of its 3,001 words is there.
        let fts = FullTextLayout.path(for: path, file: 0)
        let scan = try FullTextCheck.IndexScan.scan(path: fts, immutable: false, expectedDocuments: 10_000)
        let queue = try DatabaseQueue(path: fts)
        defer { try? queue.close() }
        let (inLine, inAll) = try await queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events_fts_instance WHERE doc = 406 AND col = 'line'"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events_fts_instance WHERE doc = 406")
            )
        }
        #expect(inLine == 3_001)
        #expect(scan.tally.slots[2 * 200 + 5].count == Int32(inAll ?? 0))
    }

    @Test(arguments: [4096, FullTextIndexer.pageSize])
    func readsAnIncrementalMergeStoppedHalfWay(pageSize: Int) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = try await self.database(dir, batches: 30, pageSize: pageSize)
        let fts = FullTextLayout.path(for: path, file: 0)
        let queue = try DatabaseQueue(path: fts)
        // A little merge work (one page) over many segments: the merge stays in progress.
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO events_fts (events_fts, rank) VALUES ('merge', -1)")
        }
        let merging = try await queue.read { db in
            try FullTextSegmentReader.segments(
                Array(try Data.fetchOne(db, sql: "SELECT block FROM events_fts_data WHERE id = 10") ?? Data())
            ).merging
        }
        try queue.close()
        #expect(merging, "the merge finished at once: the case is not exercised")
        try self.compare(path)
    }

    @Test(arguments: [
        // A delete marker (what the 'delete' command of a contentless table writes).
        "INSERT INTO events_fts (events_fts, rowid, line) VALUES ('delete', 7, 'sshd 42 Accepted publickey')",
        // The same row indexed again in a new segment: rows and terms overlap with an older segment.
        "INSERT INTO events_fts (rowid, line) VALUES (7, 'sshd 42 Accepted publickey for mchen')",
        // A page of a segment gone.
        "DELETE FROM events_fts_data WHERE id = (SELECT max(id) FROM events_fts_data WHERE id > 1000 AND id < (1 << 36) * 2 * 65536)",
    ])
    func stepsAsideForWhatALegitimateIndexNeverHolds(sql: String) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = try await self.database(dir, batches: 6, pageSize: 4096)
        let fts = FullTextLayout.path(for: path, file: 0)
        let queue = try DatabaseQueue(path: fts)
        try await queue.write { db in try db.execute(sql: sql) }
        try queue.close()
        let scan = try? FullTextCheck.IndexScan.scan(path: fts, immutable: false, expectedDocuments: 10_000)
        // Either the reader refused and fts5vocab read it, or fts5vocab itself failed (a missing page is corrupt).
        if let scan { #expect(scan.segmentReaderRefused != nil) }
    }
}

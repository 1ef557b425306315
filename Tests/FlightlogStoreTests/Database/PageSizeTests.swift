import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// New evidence databases are created with 64 KiB pages; a database created before keeps its 4 KiB pages and
/// works as before (SQLite fixes the page size with the first page written).
@Suite struct PageSizeTests {
    private static func pageSize(_ store: SQLiteStore) async throws -> Int? {
        try await store.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") }
    }

    /// The writer's automatic checkpoint interval, in pages.
    private static func checkpointPages(_ store: SQLiteStore) async throws -> Int? {
        try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
    }

    private static func storeOneBatch(_ store: SQLiteStore) async throws {
        let agent = TestAgent(name: "pages")
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let events = agent.events(50, prefix: "pages")
        let batch = try agent.batch(sequence: 1, previous: .zero, events: events)
        #expect(
            try await store.ingest([IngestItem(agentID: record.id, batch: batch, events: events, receivedNanos: 1)])
                == [.stored]
        )
        #expect(try await store.counts().events == 50)
    }

    @Test func aNewDatabaseHasSixtyFourKiBPages() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        #expect(try await Self.pageSize(store) == SQLiteStore.pageSize)
        #expect(SQLiteStore.pageSize == 65_536)
        // 128 MiB of WAL between the writer's checkpoints (SQLite's default: 1,000 pages).
        #expect(try await Self.checkpointPages(store) == 2_048)
        try await Self.storeOneBatch(store)
    }

    @Test func anExistingDatabaseKeepsItsPages() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let older = try DatabaseQueue(path: path)
        try await older.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 4096")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try older.close()
        let store = try SQLiteStore(path: path)
        #expect(try await Self.pageSize(store) == 4_096)
        #expect(try await Self.checkpointPages(store) == 32_768)
        try await Self.storeOneBatch(store)
    }
}

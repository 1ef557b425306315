import Foundation
import GRDB

extension SQLiteStore {
    /// Runs the full-text indexer (see ``FullTextIndexer``) until the task is cancelled, calling `report` after every
    /// indexing transaction. While it runs, ingestion waits whenever the index trails by more than
    /// ``maxFullTextLag`` events.
    public func maintainIndexes(report: @escaping @Sendable (FullTextProgress) -> Void) async throws {
        guard let indexer = self.indexer else { return }
        try await indexer.run(report: report)
    }

    /// Indexes every event committed so far; returns when the full-text index has no lag.
    public func drainFullTextIndex() async throws(StoreError) {
        guard let indexer = self.indexer else { return }
        do {
            try await indexer.drain()
        } catch {
            throw StoreError.database("\(error)")
        }
    }

    /// How far the full-text index has come, read from the database (the committed watermark and last event).
    public func fullTextProgress() async throws(StoreError) -> FullTextProgress {
        try await self.read { db in try Self.fullTextProgress(db) }
    }

    /// ``fullTextProgress()``, for synchronous callers (the command line).
    public func fullTextProgressNow() throws -> FullTextProgress {
        try self.pool.read { db in try Self.fullTextProgress(db) }
    }

    static func fullTextProgress(_ db: Database) throws -> FullTextProgress {
        let indexed = try Int64.fetchOne(db, sql: "SELECT indexed_through FROM fts_progress") ?? 0
        let latest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM events") ?? 0
        return FullTextProgress(indexedThrough: indexed, latestEventID: latest)
    }
}

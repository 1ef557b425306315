import Foundation
import GRDB

extension SQLiteStore {
    /// Runs the full-text indexers (see ``FullTextIndexer``), one per file, and the WAL checkpointer (see
    /// ``WALCheckpointer``), until the task is cancelled, calling `report` after every indexing transaction of any
    /// indexer. While they run, ingestion waits whenever one trails by more than ``maxFullTextLag`` events, and the
    /// writer leaves copying its WAL into the database to the checkpointer.
    ///
    /// The progress `report` gets covers every file (``FullTextProgress/combined(_:)``), except
    /// ``FullTextProgress/failure``: set only when the transaction just reported failed, so that each failed
    /// attempt is reported once, while ``FullTextProgress/failingFiles`` counts the files still failing.
    public func maintainIndexes(report: @escaping @Sendable (FullTextProgress) -> Void) async throws {
        let indexers = self.indexers
        let checkpointer = self.checkpointer
        try await withThrowingDiscardingTaskGroup { group in
            if let checkpointer { group.addTask { await checkpointer.run() } }
            for indexer in indexers {
                group.addTask {
                    try await indexer.run { own in
                        var progress = FullTextProgress.combined(indexers.map(\.progress))
                        progress.failure = own.failure
                        progress.retryDelay = own.retryDelay
                        report(progress)
                    }
                }
            }
        }
    }

    /// Indexes every event committed so far; returns when the full-text index has no lag.
    public func drainFullTextIndex() async throws(StoreError) {
        let indexers = self.indexers
        do {
            try await withThrowingDiscardingTaskGroup { group in
                for indexer in indexers { group.addTask { try await indexer.drain() } }
            }
        } catch {
            throw StoreError.database("\(error)")
        }
    }

    /// How far the full-text index has come, read from the database (the committed watermarks and last event).
    public func fullTextProgress() async throws(StoreError) -> FullTextProgress {
        try await self.read { db in try Self.fullTextProgress(db) }
    }

    /// ``fullTextProgress()``, for synchronous callers (the command line).
    public func fullTextProgressNow() throws -> FullTextProgress {
        try self.pool.read { db in try Self.fullTextProgress(db) }
    }

    static func fullTextProgress(_ db: Database) throws -> FullTextProgress {
        let indexed = try AttachedFullText(db).indexedThrough
        let latest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM events") ?? 0
        return FullTextProgress(indexedThrough: indexed, latestEventID: latest)
    }
}

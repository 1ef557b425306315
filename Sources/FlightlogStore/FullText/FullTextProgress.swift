import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// How far the full-text index has come.
public struct FullTextProgress: Sendable, Equatable {
    /// Every event with an id up to this one is in the full-text index.
    public var indexedThrough: Int64
    /// The highest event id committed, as far as the store knows.
    public var latestEventID: Int64

    /// Why the last indexing transaction failed, while the indexer waits to retry; nil while indexing works.
    public var failure: String?
    /// How long the indexer waits before its next attempt, while ``failure`` is set.
    public var retryDelay: Duration?
    /// How many of the index's files fail to be indexed and are being retried.
    public var failingFiles = 0

    /// Events committed but not yet in the full-text index.
    public var lag: Int64 { max(0, self.latestEventID.subtractingSaturating(self.indexedThrough)) }

    /// The lowest ``lag`` since the indexer started: its lag then (a whole store, for an index file being rebuilt),
    /// then after each indexing transaction; 0 once it has caught up.
    public var lowestLag: Int64 = 0

    /// Whether ingestion may go on under a lag bound of `maxLag` events: the lag may exceed the lowest it has been
    /// by at most that much. On a caught-up index that is a lag of at most `maxLag`. On an index being rebuilt (an
    /// upgraded, removed or damaged `DB.fts` or `DB.fts1`: the whole store to index) ingestion is not held back while
    /// the indexer gains on it; only when ingestion outruns it does it wait, so the lag never grows past where the
    /// rebuild started plus `maxLag`. (Holding ingestion back until a rebuilt index trailed by less than `maxLag`
    /// would stop acknowledgements for minutes after an upgrade, and make no indexer faster.)
    public func isWithinBound(_ maxLag: Int64) -> Bool {
        self.lag <= self.lowestLag.addingSaturating(maxLag)
    }

    /// The progress of the whole index from that of its files: indexed through the lowest watermark, up to the
    /// latest event any knows of, and failing while any fails (the first failure's reason).
    public static func combined(_ files: [FullTextProgress]) -> FullTextProgress {
        var progress = FullTextProgress(
            indexedThrough: files.map(\.indexedThrough).min() ?? 0,
            latestEventID: files.map(\.latestEventID).max() ?? 0
        )
        let failing = files.filter { $0.failure != nil }
        progress.failure = failing.first?.failure
        progress.retryDelay = failing.first?.retryDelay
        progress.failingFiles = failing.count
        progress.lowestLag = files.map(\.lowestLag).max() ?? 0
        return progress
    }
}

import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// Keeps one file of the full-text index (`events_fts`; see ``FullTextLayout`` for which events each file holds) in
/// its own database file, written by its own connection, trailing the durable commit of the events.
///
/// One FTS5 table with three columns: `line` (the raw line, for `--match` and Sigma keywords), `program` and
/// `fields` (the parsed fields as ``FieldsDocument``, where hunts find their candidates). Until index-file migration
/// v8 the last two were a table of their own, `events_attrs`: one table costs ~20 % less indexing CPU (one
/// document, one insert and one set of segments to merge per event instead of two), see migration v8.
///
/// Why files of its own: filling FTS5 on the single writer cost about half of its time per event. In its own files
/// the index is written on the other cores, and the event commit (the ACK) no longer waits for it.
///
/// Each file holds the FTS5 table, its `fts5vocab` view `events_fts_instance`, and `fts_progress`: the highest event
/// id through which this file's events are indexed (in both of its columns, `indexed_through` and
/// `attrs_indexed_through`, equal since v8), updated in the same transaction as the rows it covers, and the layout's
/// ``FullTextLayout/splitAfter`` (`split_after`, since v9, the same in every file). A crash (the files are
/// `synchronous = NORMAL`: they can always be rebuilt from the durable events) rolls back rows and watermark
/// together, so no row is lost or indexed twice: the next run starts again after the committed watermark. Readers
/// of the evidence database attach the files as schemas `fts` and `fts1` and read them through one view (see
/// ``FullTextLayout/attach(_:paths:names:complete:)``).
final class FullTextIndexer: @unchecked Sendable {
    /// Rows indexed per transaction: large enough that the per-commit cost is amortised, small enough that the
    /// reported lag moves often.
    static let rowsPerTransaction = 20_000

    private let queue: DatabaseQueue
    /// The batches ingest decoded last (nil: none, as for a store opened to rebuild the index), and the batches
    /// this indexer inflated itself (4 MiB: it reads in id order), used only on `queue`.
    private let recent: RecentBatches?
    private let contents: BatchContentCache
    /// Which file of the index this indexer writes (see ``FullTextLayout``), and its path.
    let file: Int
    let path: String
    /// Which events this file holds; set when the store opens (``reconcile(_:)``), before indexing starts.
    private(set) var layout = FullTextLayout(splitAfter: 0)
    /// Whether the file was created by this open (no migration had run on it).
    private let isNew: Bool
    private let lock = NSLock()
    private var state = FullTextProgress(indexedThrough: 0, latestEventID: 0)
    private var running = false
    private var workWaiter: CheckedContinuation<Void, Never>?
    private var workPending = false
    private var progressWaiters: [CheckedContinuation<Void, Never>] = []

    /// How long the indexer waits before it retries after a failed transaction: doubling from the first delay up to
    /// the last, and back to the first once a transaction succeeds.
    static let firstRetryDelay: Duration = .seconds(1)
    static let maxRetryDelay: Duration = .seconds(30)

    /// Opens (creating when needed) full-text file `file` next to the evidence database and creates its schema.
    /// `busyTimeout`: how long a statement waits for another connection's lock on the file before it fails. The
    /// store then calls ``reconcile(_:)`` with every file's indexer.
    init(databasePath: String, file: Int, busyTimeout: TimeInterval = 30, recent: RecentBatches? = nil) throws {
        self.file = file
        self.recent = recent
        // Lines and fields are read from the store's batches (attached as `store`, see attach(databasePath:)).
        self.contents = BatchContentCache(schema: "store", budget: 4 << 20)
        self.path = FullTextLayout.path(for: databasePath, file: file)
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "flightlog-fts"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 8 MiB: the pages of the segments being merged. 32 MiB each indexed 1 M lines no faster, and the two
            // indexers' caches were 48 MiB of `serve`'s peak RSS more (docs/benchmarks/storage.md).
            try db.execute(sql: "PRAGMA cache_size = -8192")
        }
        self.queue = try DatabaseQueue(path: self.path, configuration: config)
        try self.queue.writeWithoutTransaction { db in
            // 16 KiB pages, fixed when the file is created (an existing file keeps its size): FTS5 writes its
            // segments as leaves of one page each (see migration v5), and fewer, larger leaves cost less to write
            // and merge. `serve` indexing 6 M events of an existing database: 85 s of CPU with 4 KiB pages, 71-74 s
            // with 16 KiB; 64 KiB pages gained less (79 s) and took 360 MB more memory.
            try SQLiteStore.useWAL(db, pageSizeIfNew: Self.pageSize)
        }
        let migrator = FullTextMigrations.migrator
        self.isNew = try self.queue.read { db in try migrator.appliedIdentifiers(db).isEmpty }
        try migrator.migrate(self.queue)
        let (watermark, split) = try self.queue.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT indexed_through, split_after FROM fts_progress")
            // Read without GRDB's trapping decode: an index file is not trusted to hold an integer there.
            return (
                max(0, row.flatMap { Int64.fromDatabaseValue($0[0]) } ?? 0),
                row.flatMap { Int64.fromDatabaseValue($0[1]) } ?? 0
            )
        }
        self.state.indexedThrough = watermark
        self.layout = FullTextLayout(splitAfter: split)
    }

    /// Makes the files of one store agree on their layout (see ``FullTextLayout``), before any of them indexes.
    ///
    /// The first file decides, unless it was just created while the others were not (it was removed, or moved
    /// aside as damaged): then it takes theirs, and refills every event up to the split from the start. A second
    /// file with another split than the first (just created, next to a file from before the split, whose split is
    /// the watermark it had reached; or a file from another store) is emptied and starts after the first file's
    /// split: nothing is indexed twice, and no event falls between the files.
    static func reconcile(_ indexers: [FullTextIndexer]) throws {
        guard let first = indexers.first else { return }
        if first.isNew, let other = indexers.dropFirst().first(where: { !$0.isNew }) {
            try first.setSplit(other.layout.splitAfter, empty: false)
        }
        for indexer in indexers.dropFirst() where indexer.isNew || indexer.layout != first.layout {
            try indexer.setSplit(first.layout.splitAfter, empty: !indexer.isNew)
        }
    }

    /// Records `split` in this file; `empty`: removes every document first. A file other than the first starts
    /// after the split (it holds nothing up to it).
    private func setSplit(_ split: Int64, empty: Bool) throws {
        let layout = FullTextLayout(splitAfter: split)
        let start = layout.start(of: self.file)
        try self.queue.write { db in
            if empty { try db.execute(sql: "INSERT INTO events_fts (events_fts) VALUES ('delete-all')") }
            try db.execute(
                sql: "UPDATE fts_progress SET split_after = ?, indexed_through = ?, attrs_indexed_through = ?",
                arguments: [split, start, start]
            )
        }
        self.layout = layout
        self.withLock { $0.indexedThrough = start }
    }

    /// The tables of the layout before index-file migration v8, left for ``dropRetiredTables()``.
    static let retiredTables = FullTextMigrations.retiredTables

    /// Drops the tables index-file migration v8 retired, if any are left; returns how many it dropped.
    ///
    /// Called as the indexer starts (see ``run(report:)``), in a transaction of its own: it takes as long as
    /// reading every page of those tables, during which the indexer does not index (acknowledgements do not wait
    /// on it; the lag bound counts from where the rebuild started). A failure leaves them for the next start.
    func dropRetiredTables() async throws -> Int {
        try await self.uninterrupted { db in
            var dropped = 0
            try db.inTransaction {
                for table in Self.retiredTables where try db.tableExists(table) {
                    try db.execute(sql: "DROP TABLE \(table)")
                    dropped += 1
                }
                return .commit
            }
            return dropped
        }
    }

    /// Runs `body` on this file's connection in a task of its own, so that cancelling the caller (`serve` stopping:
    /// ``run(report:)`` is cancelled) does not interrupt a transaction half-way: the caller waits until it has
    /// committed or rolled back, then stops.
    ///
    /// GRDB interrupts the SQLite connection of an async access whose task is cancelled. An FTS5 statement
    /// interrupted while it writes a segment can leave the connection in a sticky interrupted state
    /// (<https://sqlite.org/forum/forumpost/137c7662b3>, as GRDB's own comments note), in which the rollback fails
    /// too, and GRDB stops the process when an access ends inside a transaction (a trap on a GRDB queue's thread
    /// when `serve` stopped and cancelled its indexers, seen twice in 10 M-event benchmark runs).
    private func uninterrupted<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let queue = self.queue
        // An unstructured task: it does not inherit the caller's cancellation.
        return try await Task { try await queue.writeWithoutTransaction(body) }.value
    }

    /// The page size of a new full-text file, and the FTS5 leaf size that fills one page of it.
    static let pageSize = 16_384
    static let leafSize = 16_000

    /// Attaches the evidence database to the indexer's connection (once it exists), read through schema `store`.
    func attach(databasePath: String) throws {
        try self.queue.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS store", arguments: [databasePath])
            let latest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM store.events") ?? 0
            self.withLock {
                $0.latestEventID = max($0.latestEventID, latest)
                $0.lowestLag = $0.lag
            }
        }
    }

    // MARK: - Progress

    var progress: FullTextProgress { self.withLock { $0 } }

    private func locked<T>(_ body: () -> T) -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body()
    }

    private func withLock<T>(_ body: (inout FullTextProgress) -> T) -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body(&self.state)
    }

    /// Called after a commit that stored events up to `latestEventID`: wakes the indexer.
    func noteCommitted(latestEventID: Int64) {
        self.lock.lock()
        self.state.latestEventID = max(self.state.latestEventID, latestEventID)
        let waiter = self.workWaiter
        self.workWaiter = nil
        if waiter == nil { self.workPending = true }
        self.lock.unlock()
        waiter?.resume()
    }

    // MARK: - Indexing

    /// Indexes this file's next events past its watermark in one transaction; returns how many it indexed.
    ///
    /// The watermark then stands at the last of them, or, when fewer than `limit` were left, at the last event
    /// committed: the events in between belong to the other files. Without that, a file whose newest event is
    /// older than the store's would report a lag that never closes.
    func indexNext(limit: Int = FullTextIndexer.rowsPerTransaction) async throws -> Int {
        let layout = self.layout
        let file = self.file
        let (count, through) = try await self.uninterrupted { db -> (Int, Int64) in
            // First the rows, copied out in a read transaction of their own: the evidence database's WAL can only
            // restart from its beginning while no reader holds an older snapshot of it, and the indexing below
            // takes most of the time. Read inside the indexing transaction, the writer's WAL grew to ~570 MB in a
            // 2 M-event ingest instead of ~56 MB, every write going to new file space that the kernel zeroes first.
            var watermark: Int64 = 0
            var latest: Int64 = 0
            var copied = CopiedRows()
            try db.inTransaction(.deferred) {
                watermark = try Int64.fetchOne(db, sql: "SELECT indexed_through FROM fts_progress") ?? 0
                // This file's events: every one up to the split for the first file, then those whose id picks it.
                let rows = try db.cachedStatement(
                    sql: """
                        SELECT id, line, program, fields, batch_id, idx FROM store.events
                        WHERE id > ? AND (id <= ? OR id % ? = ?) ORDER BY id LIMIT ?
                        """
                )
                try copied.read(
                    rows.sqliteStatement,
                    db,
                    after: max(watermark, layout.start(of: file)),
                    allThrough: layout.holdsEveryEventThrough(file),
                    file: file,
                    limit: limit
                )
                copied.resolveBatches(db, recent: self.recent, contents: self.contents)
                if copied.count < limit {
                    latest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM store.events") ?? 0
                }
                return .commit
            }
            var result = (0, watermark)
            // DEFERRED, not IMMEDIATE: BEGIN IMMEDIATE would take the write lock of every attached database, the
            // evidence database's too, and hold up the writer for the whole indexing transaction.
            try db.inTransaction(.deferred) {
                var insert = try DocumentInserter(db)
                // A step that failed with SQLITE_BUSY leaves its statement active, and an active write statement
                // fails every later COMMIT on this connection ("SQL statements in progress"; the next one is the
                // read transaction above, before any row resets it): reset it whatever happens.
                defer { insert.reset() }
                var last = watermark
                var count = 0
                try copied.withEach { id, program, document in
                    try insert.insert(id: id, program: program, document)
                    last = id
                    count += 1
                }
                last = max(last, latest)
                if last > watermark {
                    try db.execute(
                        sql: "UPDATE fts_progress SET indexed_through = ?, attrs_indexed_through = ?",
                        arguments: [last, last]
                    )
                }
                result = (count, last)
                return .commit
            }
            return result
        }
        let waiters = self.locked { () -> [CheckedContinuation<Void, Never>] in
            self.state.indexedThrough = max(self.state.indexedThrough, through)
            self.state.latestEventID = max(self.state.latestEventID, through)
            self.state.lowestLag = min(self.state.lowestLag, self.state.lag)
            defer { self.progressWaiters = [] }
            return self.progressWaiters
        }
        for waiter in waiters { waiter.resume() }
        return count
    }

    /// Indexes until every event committed so far is indexed.
    func drain() async throws {
        while try await self.indexNext() > 0 {}
    }

    /// Indexes as events are committed, until the task is cancelled; calls `report` after every transaction, and
    /// after every failed one with ``FullTextProgress/failure`` set.
    ///
    /// A failed transaction (a full disk, an I/O error, a lock held past the busy timeout) rolls back with its
    /// watermark, so nothing is lost or indexed twice; the indexer waits (``firstRetryDelay``, doubling up to
    /// ``maxRetryDelay``) and tries again, for as long as the server runs, so that no event stays out of the index
    /// until a restart. While it fails, ingestion does not wait on the lag bound: evidence keeps being stored and
    /// acknowledged, and the lag grows and is reported.
    func run(report: @Sendable (FullTextProgress) -> Void) async throws {
        // Cleanup only: if it fails (a full disk), the tables stay until the next start, and indexing goes on.
        _ = try? await self.dropRetiredTables()
        self.locked { self.running = true }
        defer {
            let waiters = self.locked { () -> [CheckedContinuation<Void, Never>] in
                self.running = false
                defer { self.progressWaiters = [] }
                return self.progressWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        var delay = Self.firstRetryDelay
        while !Task.isCancelled {
            let indexed: Int
            do {
                indexed = try await self.indexNext()
            } catch {
                if Task.isCancelled { return }
                let waiters = self.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.failure = "\(self.path): \(error)"
                    state.failingFiles = 1
                    state.retryDelay = delay
                    defer { self.progressWaiters = [] }
                    return self.progressWaiters
                }
                // Writers waiting on the lag bound re-check it: it no longer applies.
                for waiter in waiters { waiter.resume() }
                report(self.progress)
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, Self.maxRetryDelay)
                continue
            }
            delay = Self.firstRetryDelay
            self.withLock {
                $0.failure = nil
                $0.retryDelay = nil
                $0.failingFiles = 0
            }
            report(self.progress)
            if indexed == 0 { await self.waitForWork() }
        }
    }

    private func waitForWork() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                self.lock.lock()
                if self.workPending || Task.isCancelled {
                    self.workPending = false
                    self.lock.unlock()
                    continuation.resume()
                } else {
                    self.workWaiter = continuation
                    self.lock.unlock()
                }
            }
        } onCancel: {
            self.lock.lock()
            let waiter = self.workWaiter
            self.workWaiter = nil
            self.lock.unlock()
            waiter?.resume()
        }
    }

    /// While an indexer runs, waits until its lag is within `maxLag` events of the lowest it has been (see
    /// ``FullTextProgress/isWithinBound(_:)``): the bound on how far the full-text index trails the durable commit.
    /// Without a running indexer, or while it fails and retries, there is nothing to wait for: evidence is stored
    /// and acknowledged whether or not it can be indexed yet.
    func waitForLag(atMost maxLag: Int64) async {
        func satisfied() -> Bool {
            !self.running || self.state.failure != nil || self.state.isWithinBound(maxLag)
        }
        while true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                self.lock.lock()
                if satisfied() {
                    self.lock.unlock()
                    continuation.resume()
                } else {
                    self.progressWaiters.append(continuation)
                    self.lock.unlock()
                }
            }
            if self.locked(satisfied) { return }
        }
    }
}

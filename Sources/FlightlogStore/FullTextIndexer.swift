import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// Keeps one file of the full-text index (`events_fts`; see ``FullTextLayout`` for which events each file holds) in
/// its own database file, written by its own connection, trailing the durable commit of the events.
///
/// One FTS5 table with three columns: `line` (the raw line, for `--match` and Sigma keywords), `program` and
/// `fields` (the parsed fields as ``AttributeText``, where hunts find their candidates). Until index-file migration
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
    init(databasePath: String, file: Int, busyTimeout: TimeInterval = 30) throws {
        self.file = file
        self.path = FullTextLayout.path(for: databasePath, file: file)
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "flightlog-fts"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -32768")
        }
        self.queue = try DatabaseQueue(path: self.path, configuration: config)
        try self.queue.writeWithoutTransaction { db in
            // 16 KiB pages, fixed when the file is created (an existing file keeps its size): FTS5 writes its
            // segments as leaves of one page each (see migration v5), and fewer, larger leaves cost less to write
            // and merge. `serve` indexing 6 M events of an existing database: 85 s of CPU with 4 KiB pages, 71-74 s
            // with 16 KiB; 64 KiB pages gained less (79 s) and took 360 MB more memory.
            try SQLiteStore.useWAL(db, pageSizeIfNew: Self.pageSize)
        }
        let migrator = Self.migrator
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

    /// The schema of the full-text file; like the evidence database's, never edited once shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 events_fts with its watermark") { db in
            // detail=full keeps token positions: phrase queries ("203.0.113.77" is the phrase 203 0 113 77) need them.
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE events_fts USING fts5(line, content='', tokenize='unicode61');
                    INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 8);
                    CREATE VIRTUAL TABLE events_fts_instance USING fts5vocab(events_fts, instance);
                    CREATE TABLE fts_progress (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        indexed_through INTEGER NOT NULL
                    );
                    INSERT INTO fts_progress (id, indexed_through) VALUES (1, 0);
                    """
            )
        }
        migrator.registerMigration("v2 events_attrs: program and parsed fields, with their own watermark") { db in
            // Sigma hunts read candidates for conditions on `program` and parsed fields here (see AttributeText).
            // Its own watermark: an existing index is filled from the first event on, behind the line index, while
            // new events keep being indexed (see indexNext).
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE events_attrs USING fts5(
                        program, fields, content='', columnsize=0, tokenize='unicode61'
                    );
                    INSERT INTO events_attrs (events_attrs, rank) VALUES ('automerge', 8);
                    ALTER TABLE fts_progress ADD COLUMN attrs_indexed_through INTEGER NOT NULL DEFAULT 0;
                    """
            )
        }
        migrator.registerMigration("v3 automerge 16") { db in
            // Merge segments 16 at a time instead of 8: less merge work while indexing (3 M events: 95 k -> 102 k
            // events/s, 19.7 -> 18.3 µs of CPU per event), for a few more segments to look a term up in.
            try Self.setOption(db, "automerge", 16)
        }
        migrator.registerMigration("v4 hashsize 8 MiB") { db in
            // FTS5 writes its pending terms out as a new segment whenever they pass 1 MiB (its default), several
            // times per indexing transaction; with 8 MiB, once per transaction (20,000 rows): fewer, larger
            // segments to merge later. sqlite3 3.40.1, 1 M generated lines into both tables: 17.9 -> 15.1 µs of CPU
            // per row (Python driver included), the file 5 % smaller.
            try Self.setOption(db, "hashsize", 8_388_608)
        }
        migrator.registerMigration("v5 leaves of 16,000 bytes in a file of 16 KiB pages") { db in
            // FTS5's default leaf (4,050 bytes) fits a 4 KiB page; in a file created with 16 KiB pages a leaf of
            // 16,000 bytes fills one. A file created with 4 KiB pages keeps its leaves (larger ones would spill into
            // overflow pages); deleting the `.fts` file while `serve` is stopped rebuilds it in the new layout.
            guard try Int.fetchOne(db, sql: "PRAGMA page_size") == Self.pageSize else { return }
            try Self.setOption(db, "pgsz", Self.leafSize)
        }
        migrator.registerMigration("v6 crisismerge 64") { db in
            // FTS5 merges a level all at once, in the running transaction, when it holds `crisismerge` segments
            // (16 by default), and the incremental merges of `automerge` start at 16 too: so every merge was such a
            // crisis merge. At 5.12 M events sixteen 320,000-row segments were rewritten in one transaction (~1.3 GB
            // through the WAL; 15 s without progress; ~20 GB at 82 M events). With 64, the merges run incrementally,
            // a little after each indexing transaction, and the WAL stays small.
            try Self.setOption(db, "crisismerge", 64)
        }
        migrator.registerMigration("v7 automerge 32") { db in
            // Merge 32 segments at a time instead of 16: each posting is rewritten once per level, and with 32 a
            // level holds twice as many rows (20 k, 640 k, 20.5 M instead of 20 k, 320 k, 5.12 M, 82 M). `sqlite3`
            // shell, both tables, the real text of 6 M events, 20,000 rows per transaction: 48.0 s of CPU against
            // 55.7 s (the sixth million 8.5 s against 14.2 s: no 5.12 M-row merge). Queries look terms up in up to
            // twice as many segments per level.
            try Self.setOption(db, "automerge", 32)
        }
        migrator.registerMigration("v8 one table for the line, program and fields") { db in
            // The line index and the hunt index become one table of three columns. The indexer inserted every
            // event twice, and FTS5 kept two hashes, two sets of segments and two merge schedules: measured inside
            // `flightlog-bench ingest` (2 M events of ~200-byte lines, release, alternating, 2026-11-27) one table
            // gave 80.5-86.5 k events/s acknowledged and indexed against 62.9-70.5 k, 19.8-21.0 µs of CPU per event
            // against 22.7-24.9. The index is derived: the new table is filled from the stored events, with both
            // watermarks back at 0. The old tables are only renamed here (a change to the schema, instant): dropping
            // them reads every one of their pages (48 s for the 1.9 GB file of 10 M events, from disk), which would
            // hold up `serve`'s start and every other command's open. The indexer drops them in the background
            // (``dropRetiredTables()``); their pages are then reused as the new index grows.
            try db.execute(
                sql: """
                    DROP TABLE IF EXISTS events_fts_instance;
                    ALTER TABLE events_fts RENAME TO \(Self.retiredTables[0]);
                    CREATE VIRTUAL TABLE events_fts USING fts5(
                        line, program, fields, content='', tokenize='unicode61'
                    );
                    CREATE VIRTUAL TABLE events_fts_instance USING fts5vocab(events_fts, instance);
                    UPDATE fts_progress SET indexed_through = 0, attrs_indexed_through = 0;
                    """
            )
            // The settings the two tables had reached by v7 (see v3 to v7 for why).
            try Self.setOption(db, "automerge", 32, tables: ["events_fts"])
            try Self.setOption(db, "crisismerge", 64, tables: ["events_fts"])
            try Self.setOption(db, "hashsize", 8_388_608, tables: ["events_fts"])
            if try Int.fetchOne(db, sql: "PRAGMA page_size") == Self.pageSize {
                try Self.setOption(db, "pgsz", Self.leafSize, tables: ["events_fts"])
            }
        }
        migrator.registerMigration("v9 split_after: the index in two files") { db in
            // The index is split across two files by event id (see FullTextLayout). A file indexed before holds
            // every event up to its watermark, whatever its id: that is where the split starts. A new file's is 0
            // here; FullTextIndexer.reconcile gives it the first file's.
            try db.execute(
                sql: """
                    ALTER TABLE fts_progress ADD COLUMN split_after INTEGER NOT NULL DEFAULT 0;
                    UPDATE fts_progress SET split_after = indexed_through;
                    """
            )
        }
        return migrator
    }

    /// The tables of the layout before index-file migration v8, left for ``dropRetiredTables()``.
    static let retiredTables = ["events_fts_v7", "events_attrs"]

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
    /// too, and GRDB stops the process when an access ends inside a transaction. A 10 M-event benchmark run
    /// crashed at its end with a trap on a GRDB queue's thread (2026-11-27 08:36 UTC; once before at 02:00 UTC),
    /// when `serve` stops and the indexers are cancelled: most likely that, though its message was lost and 20
    /// short runs did not crash again.
    private func uninterrupted<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let queue = self.queue
        // An unstructured task: it does not inherit the caller's cancellation.
        return try await Task { try await queue.writeWithoutTransaction(body) }.value
    }

    /// Sets an FTS5 option (it applies to what the table writes from then on) on full-text tables (before v8 there
    /// were two).
    private static func setOption(
        _ db: Database,
        _ option: String,
        _ value: Int,
        tables: [String] = ["events_fts", "events_attrs"]
    ) throws {
        for table in tables {
            try db.execute(sql: "INSERT INTO \(table) (\(table), rank) VALUES (?, ?)", arguments: [option, value])
        }
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
                        SELECT id, line, program, fields FROM store.events
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
                try copied.withEach { id, line, program, fields in
                    try insert.insert(id: id, line: line, program: program, fields: fields)
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
    /// ``maxRetryDelay``) and tries again, for as long as the server runs. It used to stop for good at the first
    /// error, and every event stored afterwards stayed out of the index until `serve` was restarted. While it
    /// fails, ingestion does not wait on the lag bound: evidence keeps being stored and acknowledged, and the lag
    /// grows and is reported.
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
    /// upgraded or damaged `DB.fts`: the whole store to index) ingestion is not held back while the indexer gains on
    /// it; only when ingestion outruns it does it wait, so the lag never grows past where the rebuild started plus
    /// `maxLag`. Holding ingestion back until a rebuilt index trailed by less than `maxLag` stopped acknowledgements
    /// for minutes after an upgrade, and could not make the one-core indexer any faster.
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

/// Inserts one event into `events_fts`: its line, its `program`, and its parsed fields as ``AttributeText``.
private struct DocumentInserter {
    let db: Database
    let insert: Statement
    let pairs: Statement

    init(_ db: Database) throws {
        self.db = db
        self.insert = try db.cachedStatement(
            sql: "INSERT INTO events_fts (rowid, line, program, fields) VALUES (?, ?, ?, ?)"
        )
        // CAST: the text LIKE compares a decoded value as.
        self.pairs = try db.cachedStatement(sql: "SELECT key, CAST(value AS TEXT) FROM json_each(?)")
    }

    /// Leaves the statements inactive (after a failed step too).
    func reset() {
        sqlite3_reset(self.insert.sqliteStatement)
        sqlite3_reset(self.pairs.sqliteStatement)
    }

    /// Reused for every event's text.
    private var buffer: [UInt8] = []

    /// The columns as the row holds them (read in place); a NULL `fields` counts as `{}`.
    mutating func insert(
        id: Int64,
        line: UnsafeBufferPointer<UInt8>,
        program: UnsafeBufferPointer<UInt8>?,
        fields: UnsafeBufferPointer<UInt8>?
    ) throws {
        let statement = self.insert.sqliteStatement
        sqlite3_reset(statement)
        sqlite3_bind_int64(statement, 1, id)
        // The same text the writer used to index: the line as UTF-8, invalid bytes replaced.
        if UTF8Text.isValid(line) {
            RawBind.text(statement, 2, line)
        } else {
            RawBind.text(statement, 2, String(decoding: line, as: UTF8.self))
        }
        RawBind.text(statement, 3, program)
        switch fields {
        case nil:
            RawBind.text(statement, 4, [])
        case let fields? where AttributeText.append(fieldsJSON: fields, to: &self.buffer):
            RawBind.text(statement, 4, self.buffer)
        case let fields?:
            // Anything the fast decoder is unsure of: SQLite's own decoder, the one json_extract uses. Not JSON at
            // all (only a tampered row): nothing, as json_extract would fail on it too.
            let json = String(decoding: fields, as: UTF8.self)
            let pairs = (try? Row.fetchAll(self.pairs, arguments: [json])) ?? []
            let text = AttributeText.text(
                // Not GRDB's subscripts, which stop the process on a value that is not text: a tampered row's JSON
                // may be an array (integer keys) or hold numbers, and the indexer would stop at it on every start.
                pairs: pairs.map { row in
                    (key: String.fromDatabaseValue(row[0]) ?? "", value: String.fromDatabaseValue(row[1]) ?? "")
                }
            )
            RawBind.text(statement, 4, text)
        }
        try RawBind.step(statement, self.db)
    }
}

/// The rows one indexing transaction indexes, copied out of the evidence database (see
/// ``FullTextIndexer/indexNext(limit:)``): one byte buffer and the place of each column in it.
private struct CopiedRows {
    /// Where one row's columns are in `bytes` (nil: NULL).
    private struct Row {
        var id: Int64
        var line: Range<Int>
        var program: Range<Int>?
        var fields: Range<Int>?
    }

    private var bytes: [UInt8] = []
    private var rows: [Row] = []

    /// How many rows were copied.
    var count: Int { self.rows.count }

    /// Copies up to `limit` rows after event `after` from `select` (`id, line, program, fields` from a bound
    /// `id > ? AND (id <= ? OR id % ? = ?) … LIMIT ?` query): every row up to `allThrough`, then those of `file`.
    mutating func read(
        _ select: SQLiteStatement,
        _ db: Database,
        after: Int64,
        allThrough: Int64,
        file: Int,
        limit: Int
    ) throws {
        sqlite3_reset(select)
        defer { sqlite3_reset(select) }
        sqlite3_bind_int64(select, 1, after)
        sqlite3_bind_int64(select, 2, allThrough)
        sqlite3_bind_int64(select, 3, Int64(FullTextLayout.fileCount))
        sqlite3_bind_int64(select, 4, Int64(file))
        sqlite3_bind_int64(select, 5, Int64(limit))
        self.rows.reserveCapacity(limit)
        // Stepped by hand, each column copied from where SQLite holds it: a GRDB row, the line as `Data` and the
        // text columns as `String`s cost ~4 % of the indexer's time.
        while try RawBind.nextRow(select, db) {
            let line = self.append(RawColumn.bytes(select, 1))
            let program = RawColumn.text(select, 2).map { self.append($0) }
            let fields = RawColumn.text(select, 3).map { self.append($0) }
            self.rows.append(Row(id: sqlite3_column_int64(select, 0), line: line, program: program, fields: fields))
        }
    }

    private mutating func append(_ column: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = self.bytes.count
        self.bytes.append(contentsOf: column)
        return start..<self.bytes.count
    }

    /// Calls `body` with each row's id, line, `program` and `fields` (nil: NULL).
    func withEach(
        _ body: (
            Int64, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>?, UnsafeBufferPointer<UInt8>?
        ) throws -> Void
    ) throws {
        try self.bytes.withUnsafeBufferPointer { all in
            for row in self.rows {
                try body(
                    row.id,
                    UnsafeBufferPointer(rebasing: all[row.line]),
                    row.program.map { UnsafeBufferPointer(rebasing: all[$0]) },
                    row.fields.map { UnsafeBufferPointer(rebasing: all[$0]) }
                )
            }
        }
    }
}

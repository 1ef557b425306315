import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB
import Synchronization

/// The embedded evidence store: one SQLite file in WAL mode, reached through GRDB.
///
/// Durability: `synchronous = FULL`. In WAL mode, `NORMAL` syncs only at checkpoints, so a power cut can roll back
/// transactions that were reported committed; `FULL` syncs the WAL at every commit, which is what lets an `ACK`
/// mean durable. Group commit (many batches per transaction) pays for that one fsync.
final class SQLiteStore: FlightlogStorage {
    let pool: DatabasePool
    /// Whether the files were opened immutable, on read-only media (see ``init(readOnlyPath:)``): nothing, not even
    /// an audit or verify record, can be written.
    public let isImmutable: Bool
    /// The database file.
    public let path: String
    /// Write the full-text index, one per file of it (see ``FullTextLayout``); none when opened read-only, or when
    /// a file was left out as unreadable.
    let indexers: [FullTextIndexer]
    /// Copies the WAL into the database off the writer while `serve` runs (see ``WALCheckpointer``); none when
    /// opened read-only.
    let checkpointer: WALCheckpointer?
    /// The batches ingest stored last, decoded, for the indexers (see ``RecentBatches``); nil when opened read-only.
    let recentBatches: RecentBatches?
    /// Catalogue rows this process has written or found written (see ``ingest(_:)``).
    let knownCatalogue = Mutex<Set<CatalogueName>>([])
    /// How many committed events the full-text index may trail by while an indexer runs, before ingestion waits.
    public static let maxFullTextLag: Int64 = 2_000_000

    /// Where full-text files found damaged at open were moved (see ``init(path:onDamagedIndex:)``).
    public let movedDamagedFullText: [String]
    /// The full-text files left out of this open (``DamagedIndexPolicy/leaveOut``: they are not readable databases), and
    /// why: queries and `verify` then run without them.
    public let leftOutFullText: [UnreadableIndexFile]

    /// Opens (creating when needed) the database at `path` for writing and migrates it to the current schema; a
    /// damaged full-text file is handled as `onDamagedIndex` says.
    public convenience init(path: String, onDamagedIndex: DamagedIndexPolicy = .fail) throws(StoreError) {
        try self.init(path: path, fullTextBusyTimeout: 30, onDamagedIndex: onDamagedIndex)
    }

    /// ``init(path:onDamagedIndex:)`` with the full-text indexer's busy timeout: how long it waits for a lock
    /// another connection holds on the full-text file before its transaction fails (and is retried), and the
    /// database's own (`busyTimeout`, 30 s: how long a commit waits for another connection's lock before it fails).
    /// `walRestartFrames` overrides ``WALCheckpointer/restartFrames``.
    init(
        path: String,
        fullTextBusyTimeout: TimeInterval,
        busyTimeout: TimeInterval = 30,
        walRestartFrames: Int? = nil,
        onDamagedIndex: DamagedIndexPolicy = .fail
    ) throws(StoreError) {
        Self.tuneSQLite()
        self.path = path
        self.isImmutable = false
        let recentBatches = RecentBatches()
        self.recentBatches = recentBatches
        var moved: [String] = []
        var leftOut: [UnreadableIndexFile] = []
        var indexers: [FullTextIndexer] = []
        do {
            for file in 0..<FullTextLayout.fileCount {
                let ftsPath = FullTextLayout.path(for: path, file: file)
                func open() throws -> FullTextIndexer {
                    try FullTextIndexer(
                        databasePath: path,
                        file: file,
                        busyTimeout: fullTextBusyTimeout,
                        recent: recentBatches
                    )
                }
                do {
                    indexers.append(try open())
                } catch let error as DatabaseError where Self.isDamage(error) {
                    let reason = "\(error.message ?? "\(error)")"
                    switch onDamagedIndex {
                    case .fail:
                        throw StoreError.fullTextDamaged(path: ftsPath, reason: reason)
                    case .moveAsideAndRebuild:
                        moved.append(try Self.moveAside(ftsPath))
                        indexers.append(try open())
                    case .leaveOut:
                        leftOut.append(UnreadableIndexFile(path: ftsPath, reason: reason))
                    }
                }
            }
            // With a file left out, nothing indexes: the others stay as they are until `serve` rebuilds it.
            if leftOut.isEmpty { try FullTextIndexer.reconcile(indexers) } else { indexers = [] }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
        let unreadable = Set(leftOut.map(\.path))
        let names = FullTextLayout.paths(for: path)
        let attach = names.map { unreadable.contains($0) ? nil : $0 }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.label = "flightlog"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            if !db.configuration.readonly {
                let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.walCheckpointPages(pageSize: pageSize))")
            }
            // The writer inserts into three indexes keyed by host, user and source IP: random pages all over them
            // once the database outgrows the cache. 64 MiB since rows no longer hold their lines (a quarter of the
            // pages they took): on scripts/bench's 1 M lines as fast as 128 MiB, and `serve`'s peak RSS lower
            // (docs/benchmarks/storage.md). A reader's cache only fills with what it reads.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try Self.addFunctions(db)
            // Only readers see the full-text files: a writer that had them attached would take their write locks
            // in every BEGIN IMMEDIATE and wait for the indexers.
            if db.configuration.readonly {
                try FullTextLayout.attach(db, paths: attach, names: names, complete: unreadable.isEmpty)
            }
        }
        do {
            try Self.createIfMissing(path)
            self.pool = try DatabasePool(path: path, configuration: config)
            try Migrations.migrator.migrate(self.pool)
            for indexer in indexers { try indexer.attach(databasePath: path) }
            self.indexers = indexers
            self.checkpointer = try WALCheckpointer(path: path, restartFrames: walRestartFrames)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
        self.movedDamagedFullText = moved
        self.leftOutFullText = leftOut
    }

    /// The SQL functions every connection to the store has: `regexp`, `sigma_match`, `sigma_same`, and the events'
    /// lines and fields read from their batches, and searched (``EventContentFunctions``).
    private static func addFunctions(_ db: Database) throws {
        db.add(function: RegexFunction.function)
        db.add(function: SigmaMatchFunction.function)
        db.add(function: SigmaMatchFunction.same)
        try EventContentFunctions.register(db, schema: "main")
    }

    /// The page size of a new evidence database, fixed when the file is created; an existing file keeps its own.
    ///
    /// 64 KiB (SQLite's largest) rather than its default 4 KiB: the writer's rows and its four indexes take fewer
    /// pages, page splits and WAL frames, ~20 % less CPU per ingested event than 4 KiB pages, with reads as fast and
    /// a larger WAL (up to ~125 MB). The series is in docs/benchmarks/ingest.md ("after midnight").
    static let pageSize = 65_536

    /// How much WAL the writer lets accumulate before its automatic (PASSIVE) checkpoint copies it into the database.
    ///
    /// SQLite's default is 1,000 pages whatever their size: 4 MB in a database with 4 KiB pages (every one created
    /// before 64 KiB pages), a checkpoint after nearly every commit. A page that several commits rewrite (the last
    /// page of `events`, the leaves of its indexes, the source-IP index's newest subtree) is copied into the database
    /// once per checkpoint, so fewer checkpoints copy less: ~5 % more events/s on a database with 4 KiB pages, no
    /// difference with 64 KiB ones (docs/benchmarks/ingest.md, "the checkpoint interval"). Durability does not
    /// change: every commit still syncs the WAL. While `serve` runs, ``WALCheckpointer`` copies the WAL after each
    /// commit, so this checkpoint finds little left to copy: what it still does is let the WAL start over.
    static let walCheckpointBytes = 128 << 20

    /// ``walCheckpointBytes`` in pages of `pageSize` bytes, never fewer than SQLite's default 1,000.
    static func walCheckpointPages(pageSize: Int) -> Int {
        max(1_000, Self.walCheckpointBytes / max(pageSize, 512))
    }

    /// Creates the database file with ``pageSize`` pages in WAL mode when it does not exist yet (the page size can
    /// only be chosen before the first page is written).
    private static func createIfMissing(_ path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in try Self.useWAL(db, pageSizeIfNew: Self.pageSize) }
        try queue.close()
    }

    /// Whether SQLite says a file is not a database, or a damaged one.
    static func isDamage(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT
    }

    /// Renames a damaged full-text file, with its `-wal` and `-shm` files, to `<path>.damaged-<UTC time>`; returns
    /// the new name.
    private static func moveAside(_ path: String) throws -> String {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let target = path + ".damaged-" + stamp
        let files = FileManager.default
        try files.moveItem(atPath: path, toPath: target)
        for suffix in ["-wal", "-shm"] where files.fileExists(atPath: path + suffix) {
            try files.moveItem(atPath: path + suffix, toPath: target + suffix)
        }
        return target
    }

    /// Opens an existing database read-only, for investigators: never blocks ingestion.
    ///
    /// A copy on read-only media (a write-blocked disk, a read-only mount) opens too: SQLite cannot create the
    /// shared-memory file a WAL database needs there, so the files are then opened as immutable — safe because
    /// nothing can write them. A `-wal` file left next to such a copy holds committed transactions that an
    /// immutable open would not see: that is refused with what to do instead.
    ///
    /// A full-text file that is not a readable database fails the open with
    /// ``StoreError/fullTextDamaged(path:reason:)``, unless `onDamagedIndex` is ``DamagedIndexPolicy/leaveOut`` (it is
    /// never moved from here).
    public init(readOnlyPath path: String, onDamagedIndex: DamagedIndexPolicy = .fail) throws(StoreError) {
        Self.tuneSQLite()
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.cannotOpen(
                path: path,
                reason: "no such file (pass --db with the file `flightlog serve` writes, such as "
                    + "/var/lib/flightlog/flightlog.db; `flightlog enroll` or `serve` creates a new one)"
            )
        }
        self.indexers = []
        self.recentBatches = nil
        self.checkpointer = nil
        self.movedDamagedFullText = []
        let leaveOut = onDamagedIndex == .leaveOut
        do {
            (self.pool, self.leftOutFullText) = try Self.openReadOnly(path: path, immutable: false, leaveOut: leaveOut)
            self.isImmutable = false
        } catch  where Self.isOnReadOnlyMedia(path) {
            // Immutable only for a closed copy: a live database (being written through another mount) always has
            // its -shm file, and a -wal file holds committed transactions an immutable open would not see.
            let leftovers = ["-wal", "-shm"].map { path + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
            guard leftovers.isEmpty else {
                throw StoreError.cannotOpen(
                    path: path,
                    reason: """
                        it is on a read-only file system next to \(leftovers.joined(separator: " and ")), which \
                        SQLite cannot use there: copy the database with its -wal and -shm files to writable \
                        storage, or checkpoint the original (sqlite3 DB 'PRAGMA wal_checkpoint(TRUNCATE)') and copy \
                        the database file alone (\(error))
                        """
                )
            }
            (self.pool, self.leftOutFullText) = try Self.openReadOnly(path: path, immutable: true, leaveOut: leaveOut)
            self.isImmutable = true
        }
    }

    /// The pool, and the full-text files left out of it (`leaveOut` and damaged).
    private static func openReadOnly(
        path: String,
        immutable: Bool,
        leaveOut: Bool
    ) throws(StoreError) -> (DatabasePool, [UnreadableIndexFile]) {
        let names = FullTextLayout.paths(for: path)
        var leftOut: [UnreadableIndexFile] = []
        var attach: [String?] = []
        for ftsPath in names {
            let uri = immutable ? Self.immutableURI(ftsPath) : ftsPath
            guard FileManager.default.fileExists(atPath: ftsPath) else {
                attach.append(nil)
                continue
            }
            if leaveOut, let reason = Self.damage(readingFullText: uri) {
                leftOut.append(UnreadableIndexFile(path: ftsPath, reason: reason))
                attach.append(nil)
            } else {
                attach.append(uri)
            }
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        config.label = "flightlog-read"
        let complete = leftOut.isEmpty
        let paths = attach
        config.prepareDatabase { db in
            try Self.addFunctions(db)
            try FullTextLayout.attach(db, paths: paths, names: names, complete: complete)
        }
        do {
            let pool = try DatabasePool(path: immutable ? Self.immutableURI(path) : path, configuration: config)
            let migrator = Migrations.migrator
            let (complete, newer, applied) = try pool.read { db in
                (
                    try migrator.hasCompletedMigrations(db), try migrator.hasBeenSuperseded(db),
                    try migrator.appliedIdentifiers(db).count
                )
            }
            // Readers cannot migrate: say which of the three it is, and what to do.
            if newer {
                throw StoreError.cannotOpen(
                    path: path,
                    reason: "written by a newer version of Flightlog: use that version (or newer) to read it"
                )
            }
            if !complete, applied == 0 {
                throw StoreError.cannotOpen(path: path, reason: "not a Flightlog database")
            }
            if !complete {
                throw StoreError.cannotOpen(
                    path: path,
                    reason: "written by an older version of Flightlog; read-only commands cannot upgrade it: restart "
                        + "`flightlog serve` with this version, or run `flightlog verify --db \(path)` once, "
                        + "which upgrades it (a copy on read-only media needs the version that wrote it)"
                )
            }
            return (pool, leftOut)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Why the full-text file at `path` (a path or URI) cannot be read as a database, or nil when it can.
    private static func damage(readingFullText path: String) -> String? {
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") }
            return nil
        } catch let error as DatabaseError where Self.isDamage(error) {
            return error.message ?? "\(error)"
        } catch {
            return nil
        }
    }

    /// `path` as an SQLite URI filename opened immutable (SQLite is built with URI filenames on).
    static func immutableURI(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        let encoded = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return "file:\(encoded)?immutable=1"
    }

    /// Whether `path` is on a file system mounted read-only (a write-blocked disk, a read-only mount): nothing on
    /// it can change, which is what opening immutable assumes. A directory this user merely may not write to is
    /// not: the database may be live.
    public static func isOnReadOnlyMedia(_ path: String) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        var info = statvfs()
        guard statvfs(directory.isEmpty ? "." : directory, &info) == 0 else { return false }
        return info.f_flag & UInt(ST_RDONLY) != 0
    }

    /// Runs `body` in a read transaction (a consistent snapshot).
    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await self.pool.read(body)
        } catch {
            throw StoreError.database("\(error)")
        }
    }

    /// Runs `body` in a write transaction.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await self.pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database("\(error)")
        }
    }
}

// MARK: - Value conversions

import FlightlogWire
import Foundation
import GRDB

/// The embedded evidence store: one SQLite file in WAL mode, reached through GRDB.
///
/// Durability: `synchronous = FULL`. In WAL mode, `NORMAL` syncs only at checkpoints, so a power cut can roll back
/// transactions that were reported committed; `FULL` syncs the WAL at every commit, which is what lets an `ACK`
/// mean durable. Group commit (many batches per transaction) pays for that one fsync.
public final class SQLiteStore: EvidenceStore {
    let pool: DatabasePool
    /// The database file.
    public let path: String
    /// Writes the full-text index in its own file (nil when opened read-only).
    let indexer: FullTextIndexer?
    /// How many committed events the full-text index may trail by while an indexer runs, before ingestion waits.
    public static let maxFullTextLag: Int64 = 2_000_000

    /// Opens (creating when needed) the database at `path` for writing and migrates it to the current schema.
    public init(path: String) throws(StoreError) {
        Self.tuneSQLite()
        self.path = path
        let ftsPath = FullTextIndexer.path(for: path)
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.label = "flightlog"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // The writer inserts into three indexes keyed by host, user and source IP: random pages all over them
            // once the database outgrows the cache, so it gets a larger one than the readers.
            try db.execute(
                sql: db.configuration.readonly ? "PRAGMA cache_size = -65536" : "PRAGMA cache_size = -262144"
            )
            db.add(function: RegexFunction.function)
            // Only readers see the full-text file: a writer that had it attached would take its write lock in every
            // BEGIN IMMEDIATE and wait for the indexer.
            if db.configuration.readonly {
                try db.execute(sql: "ATTACH DATABASE ? AS fts", arguments: [ftsPath])
            }
        }
        do {
            let indexer = try FullTextIndexer(databasePath: path)
            self.pool = try DatabasePool(path: path, configuration: config)
            try Migrations.migrator.migrate(self.pool)
            try indexer.attach(databasePath: path)
            self.indexer = indexer
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Opens an existing database read-only, for investigators: never blocks ingestion.
    public init(readOnlyPath path: String) throws(StoreError) {
        Self.tuneSQLite()
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "no such file")
        }
        self.indexer = nil
        let ftsPath = FullTextIndexer.path(for: path)
        let hasFullText = FileManager.default.fileExists(atPath: ftsPath)
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        config.label = "flightlog-read"
        config.prepareDatabase { db in
            db.add(function: RegexFunction.function)
            if hasFullText { try db.execute(sql: "ATTACH DATABASE ? AS fts", arguments: [ftsPath]) }
        }
        do {
            self.pool = try DatabasePool(path: path, configuration: config)
            let migrated = try self.pool.read { db in try Migrations.migrator.hasCompletedMigrations(db) }
            guard migrated else {
                throw StoreError.cannotOpen(
                    path: path,
                    reason: "not a Flightlog database, or written by a newer version"
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
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

extension UInt64 {
    /// The signed integer with the same bits, as SQLite stores it.
    var sqlValue: Int64 { Int64(bitPattern: self) }
}

extension Int64 {
    var unsignedValue: UInt64 { UInt64(bitPattern: self) }
}

extension Bytes32 {
    var data: Data { Data(self.bytes) }

    init?(data: Data?) {
        guard let data else { return nil }
        self.init(data)
    }
}

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

    /// Opens (creating when needed) the database at `path` for writing and migrates it to the current schema.
    public init(path: String) throws(StoreError) {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.label = "flightlog"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            db.add(function: RegexFunction.function)
        }
        do {
            self.pool = try DatabasePool(path: path, configuration: config)
            try Migrations.migrator.migrate(self.pool)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Opens an existing database read-only, for investigators: never blocks ingestion.
    public init(readOnlyPath path: String) throws(StoreError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.cannotOpen(path: path, reason: "no such file")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        config.label = "flightlog-read"
        config.prepareDatabase { db in db.add(function: RegexFunction.function) }
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

import CSQLiteFaults
import CSQLiteTuning
import FlightlogSystem
import GRDB

extension SQLiteStore {
    /// Process-wide SQLite settings, applied once before the first connection opens (later calls are no-ops; in a
    /// process that opened SQLite before, for instance a test, the settings stay SQLite's defaults).
    ///
    /// Memory statistics off: with them on, every SQLite allocation takes one process-wide mutex, and Debian's
    /// SQLite (no lookaside memory) allocates for nearly every value it reads. The writer, the full-text indexer,
    /// readers and `verify`'s scans work on separate connections on separate threads and waited on each other there
    /// (`verify` spent a third of its CPU time in futex calls with its two index scans on two threads).
    static func tuneSQLite() {
        _ = Self.tuning
        _ = Self.faultInjection
    }

    private static let tuning: Int32 = flightlog_sqlite_disable_memstatus()

    /// A test build asked to fail SQLite's syncs (`FLIGHTLOG_FAILPOINT_ERROR=sqlite.fsync@N:K`, ``Failpoint``) gets a
    /// VFS whose N-th to (N+K−1)-th sync of an evidence database's write-ahead log (the `-wal` file; not the
    /// full-text index's `.fts` files, whose commits run on their own schedule) return SQLITE_IOERR_FSYNC without
    /// syncing: tmpfs cannot fail an fsync. Release builds, and test builds not asked, keep SQLite's own VFS.
    private static let faultInjection: Bool = {
        guard Failpoint.isArmed("sqlite.fsync") else { return false }
        let registered = flightlog_sqlite_register_fault_vfs { path in
            guard let path else { return 0 }
            let name = String(cString: path)
            guard name.hasSuffix("-wal"), !name.contains(".fts") else { return 0 }
            return Failpoint.fails("sqlite.fsync") ? 1 : 0
        }
        return registered == SQLITE_OK
    }()

    /// Puts a connection's database in WAL mode, choosing `pageSize` first when the file is still empty (SQLite fixes
    /// the page size with the first page it writes; an existing file keeps its own).
    static func useWAL(_ db: Database, pageSizeIfNew pageSize: Int) throws {
        if try Int.fetchOne(db, sql: "PRAGMA page_count") == 0 {
            try db.execute(sql: "PRAGMA page_size = \(pageSize)")
        }
        try db.execute(sql: "PRAGMA journal_mode = WAL")
    }
}

import GRDB
import GRDBSQLite

/// Direct `sqlite3_bind_*` for the ingest hot path. Values are copied by SQLite (`SQLITE_TRANSIENT`).
enum RawBind {
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    static func text(_ statement: SQLiteStatement, _ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(statement, index)
            return
        }
        value.withUTF8 { utf8 in
            if let base = utf8.baseAddress, utf8.count > 0 {
                base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                    _ = sqlite3_bind_text(statement, index, $0, Int32(utf8.count), Self.transient)
                }
            } else {
                _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
            }
        }
    }

    /// UTF-8 bytes as text.
    static func text(_ statement: SQLiteStatement, _ index: Int32, _ utf8: [UInt8]) {
        utf8.withUnsafeBufferPointer { Self.text(statement, index, $0) }
    }

    /// UTF-8 bytes as text; nil binds NULL.
    static func text(_ statement: SQLiteStatement, _ index: Int32, _ utf8: UnsafeBufferPointer<UInt8>?) {
        guard let utf8 else {
            sqlite3_bind_null(statement, index)
            return
        }
        if let base = utf8.baseAddress, utf8.count > 0 {
            base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                _ = sqlite3_bind_text(statement, index, $0, Int32(utf8.count), Self.transient)
            }
        } else {
            _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
        }
    }

    static func blob(_ statement: SQLiteStatement, _ index: Int32, _ value: UnsafeBufferPointer<UInt8>) {
        // A zero-length blob must still be a blob, not NULL: bind zeroblob(0) then.
        if let base = value.baseAddress, value.count > 0 {
            _ = sqlite3_bind_blob(statement, index, base, Int32(value.count), Self.transient)
        } else {
            _ = sqlite3_bind_zeroblob(statement, index, 0)
        }
    }

    /// Steps a query: true on a row, false when done; SQLite's error otherwise.
    static func nextRow(_ statement: SQLiteStatement, _ db: Database) throws -> Bool {
        let code = sqlite3_step(statement)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: String(cString: sqlite3_errmsg(db.sqliteConnection))
            )
        }
    }

    /// Runs a bound statement that returns no rows.
    static func step(_ statement: SQLiteStatement, _ db: Database) throws {
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: String(cString: sqlite3_errmsg(db.sqliteConnection))
            )
        }
    }
}

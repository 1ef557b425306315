import GRDB
import GRDBSQLite

/// Reading a column of the current row without copying it.
enum RawColumn {
    /// The column's bytes (text or blob), valid until the statement steps; empty for NULL.
    static func bytes(_ row: SQLiteStatement, _ index: Int32) -> UnsafeBufferPointer<UInt8> {
        // sqlite3_column_blob before sqlite3_column_bytes, as SQLite's documentation asks, so no conversion happens.
        guard let base = sqlite3_column_blob(row, index) else { return UnsafeBufferPointer(start: nil, count: 0) }
        let count = Int(sqlite3_column_bytes(row, index))
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// The column as UTF-8 text (a number converted as SQLite converts it), valid until the statement steps; nil
    /// for NULL.
    static func text(_ row: SQLiteStatement, _ index: Int32) -> UnsafeBufferPointer<UInt8>? {
        guard sqlite3_column_type(row, index) != SQLITE_NULL else { return nil }
        guard let base = sqlite3_column_text(row, index) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: base, count: Int(sqlite3_column_bytes(row, index)))
    }
}

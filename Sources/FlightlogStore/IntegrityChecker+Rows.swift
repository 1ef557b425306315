import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

extension IntegrityChecker {
    /// Steps `SELECT <eventColumns> FROM events … ORDER BY id` with raw `sqlite3_*` calls and compares the current
    /// row with an event on the column bytes, so that the pass builds no `Row`, `DatabaseValue` or `String` per row.
    ///
    /// A column matches only with the storage class ingest writes (integer, text, blob or NULL) and the same bytes:
    /// a value rewritten as another type (a line stored as text, a time stored as a real) is an edit.
    struct RowCursor {
        private let statement: Statement
        private let db: Database
        /// Whether the statement is on a row.
        private(set) var hasRow = false
        /// The expected `fields` JSON, rebuilt into the same storage for every row.
        private var fieldsBuffer: [UInt8] = []

        init(_ db: Database, lowID: Int64) throws {
            self.db = db
            self.statement = try db.makeStatement(
                sql:
                    "SELECT \(IntegrityChecker.eventColumns.joined(separator: ", ")) FROM events WHERE id >= ? ORDER BY id"
            )
            sqlite3_bind_int64(self.statement.sqliteStatement, 1, lowID)
            self.fieldsBuffer.reserveCapacity(512)
        }

        private var raw: SQLiteStatement { self.statement.sqliteStatement }

        /// Moves to the next row; false at the end.
        @discardableResult
        mutating func advance() throws -> Bool {
            self.hasRow = false
            self.hasRow = try RawBind.nextRow(self.raw, self.db)
            return self.hasRow
        }

        /// The current row's id (an `INTEGER PRIMARY KEY`, always an integer); nil past the end.
        var id: Int64? { self.hasRow ? sqlite3_column_int64(self.raw, 0) : nil }

        /// An integer column of the current row, nil when it holds another type.
        func integer(_ column: Int32) -> Int64? {
            sqlite3_column_type(self.raw, column) == SQLITE_INTEGER ? sqlite3_column_int64(self.raw, column) : nil
        }

        /// The names of the columns of the current row that differ from `event`, the authentic event stored as
        /// event `index` of batch `batchID`.
        mutating func differingColumns(
            event: Event,
            batchID: Int64,
            index: Int,
            agentID: Int64,
            received: Int64?
        ) -> [String] {
            let columns = IndexedColumns(event)
            FieldsJSON.encode(event.fields, into: &self.fieldsBuffer)
            var mismatch: UInt32 = 0
            func check(_ column: Int32, _ equal: Bool) { if !equal { mismatch |= 1 << UInt32(column) } }
            check(1, self.isInteger(1, batchID))
            check(2, self.isInteger(2, Int64(index)))
            check(3, self.isInteger(3, agentID))
            check(4, self.isInteger(4, event.timeNanos))
            check(5, self.isInteger(5, event.observedNanos))
            check(6, received.map { self.isInteger(6, $0) } ?? self.isNull(6))
            check(7, self.isInteger(7, Int64(event.flags.rawValue)))
            check(8, self.isText(8, event.host))
            check(9, self.isText(9, event.source))
            check(10, columns.program.map { self.isText(10, $0) } ?? self.isNull(10))
            check(11, columns.pid.map { self.isInteger(11, $0) } ?? self.isNull(11))
            check(12, columns.user.map { self.isText(12, $0) } ?? self.isNull(12))
            check(13, columns.sourceIP.map { self.isText(13, $0) } ?? self.isNull(13))
            check(14, columns.severity.map { self.isText(14, $0) } ?? self.isNull(14))
            check(15, self.isBlob(15, event.line))
            check(16, self.fieldsBuffer.withUnsafeBytes { self.hasBytes(16, type: SQLITE_TEXT, $0) })
            guard mismatch != 0 else { return [] }
            return (1..<IntegrityChecker.eventColumns.count).compactMap {
                mismatch & (1 << UInt32($0)) != 0 ? IntegrityChecker.eventColumns[$0] : nil
            }
        }

        private func isNull(_ column: Int32) -> Bool {
            sqlite3_column_type(self.raw, column) == SQLITE_NULL
        }

        private func isInteger(_ column: Int32, _ value: Int64) -> Bool {
            self.integer(column) == value
        }

        private func isText(_ column: Int32, _ value: String) -> Bool {
            var value = value
            return value.withUTF8 { self.hasBytes(column, type: SQLITE_TEXT, UnsafeRawBufferPointer($0)) }
        }

        private func isBlob(_ column: Int32, _ value: [UInt8]) -> Bool {
            value.withUnsafeBytes { self.hasBytes(column, type: SQLITE_BLOB, $0) }
        }

        /// Whether the column has storage class `type` and exactly `bytes` (text is compared as stored, UTF-8).
        private func hasBytes(_ column: Int32, type: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
            guard sqlite3_column_type(self.raw, column) == type else { return false }
            // The pointer first, then the length (sqlite3_column_bytes after _text/_blob does not convert).
            let pointer: UnsafeRawPointer? =
                type == SQLITE_TEXT
                ? sqlite3_column_text(self.raw, column).map { UnsafeRawPointer($0) }
                : sqlite3_column_blob(self.raw, column)
            let count = Int(sqlite3_column_bytes(self.raw, column))
            guard count == bytes.count else { return false }
            guard count > 0 else { return true }
            guard let pointer, let base = bytes.baseAddress else { return false }
            return memcmp(pointer, base, count) == 0
        }
    }
}

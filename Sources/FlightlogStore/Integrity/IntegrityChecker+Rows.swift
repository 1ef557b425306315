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

        init(_ db: Database, lowID: Int64) throws {
            self.db = db
            self.statement = try db.makeStatement(
                sql:
                    "SELECT \(IntegrityChecker.eventColumns.joined(separator: ", ")) FROM events WHERE id >= ? ORDER BY id"
            )
            sqlite3_bind_int64(self.statement.sqliteStatement, 1, lowID)
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

        /// The names of the columns of the current row that differ from authentic event `index` of `events`, stored
        /// as event `index` of batch `batchID`.
        mutating func differingColumns(
            _ events: AuthenticEvents,
            batchID: Int64,
            index: Int,
            agentID: Int64,
            received: Int64?
        ) -> [String] {
            let layout = events.layout
            let entry = layout.entries[index]
            let columns = events.columns[index]
            var mismatch: UInt32 = 0
            func check(_ column: Int32, _ equal: Bool) { if !equal { mismatch |= 1 << UInt32(column) } }
            func text(_ column: Int32, _ span: EventLayout.Span?) -> Bool {
                guard let span else { return self.isNull(column) }
                return layout.withBytes(span) { self.hasBytes(column, type: SQLITE_TEXT, UnsafeRawBufferPointer($0)) }
            }
            check(1, self.isInteger(1, batchID))
            check(2, self.isInteger(2, Int64(index)))
            check(3, self.isInteger(3, agentID))
            check(4, self.isInteger(4, entry.timeNanos))
            // The observed and received times are 0 (read from the batch, see EventContentFunctions) or, in a store
            // written before, the authentic values.
            check(5, self.isInteger(5, 0) || self.isInteger(5, entry.observedNanos))
            check(6, received.map { self.isInteger(6, 0) || self.isInteger(6, $0) } ?? self.isNull(6))
            check(7, self.isInteger(7, Int64(entry.flags.rawValue)))
            check(8, text(8, entry.host))
            // Source, pid and severity: empty or NULL (read from the batch) or, in a store written before, the values.
            check(9, self.isEmpty(9, type: SQLITE_TEXT) || text(9, entry.source))
            check(10, text(10, columns.program))
            check(11, self.isNull(11) || columns.pid.map { self.isInteger(11, $0) } ?? false)
            check(12, text(12, columns.user))
            check(13, text(13, columns.sourceIP))
            check(14, self.isNull(14) || text(14, columns.severity))
            // The line and the fields are either the empty marker (read from this batch, see EventContentFunctions) or
            // in clear, as a store written before kept them; in clear they must be the authentic bytes.
            check(
                15,
                self.isEmpty(15, type: SQLITE_BLOB)
                    || layout.withBytes(entry.line) { self.hasBytes(15, type: SQLITE_BLOB, UnsafeRawBufferPointer($0)) }
            )
            check(
                16,
                self.isEmpty(16, type: SQLITE_TEXT)
                    || events.withFields(index) { self.hasBytes(16, type: SQLITE_TEXT, $0) }
            )
            guard mismatch != 0 else { return [] }
            return (1..<IntegrityChecker.eventColumns.count).compactMap {
                mismatch & (1 << UInt32($0)) != 0 ? IntegrityChecker.eventColumns[$0] : nil
            }
        }

        /// Whether the column has storage class `type` and no bytes.
        private func isEmpty(_ column: Int32, type: Int32) -> Bool {
            sqlite3_column_type(self.raw, column) == type && sqlite3_column_bytes(self.raw, column) == 0
        }

        private func isNull(_ column: Int32) -> Bool {
            sqlite3_column_type(self.raw, column) == SQLITE_NULL
        }

        private func isInteger(_ column: Int32, _ value: Int64) -> Bool {
            self.integer(column) == value
        }

        /// Whether the column has storage class `type` and exactly `bytes` (text is compared as stored, UTF-8).
        private func hasBytes(_ column: Int32, type: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
            guard let stored = self.bytes(column, type: type), stored.count == bytes.count else { return false }
            guard stored.count > 0 else { return true }
            guard let pointer = stored.baseAddress, let base = bytes.baseAddress else { return false }
            return memcmp(pointer, base, stored.count) == 0
        }

        /// The column's bytes when it has storage class `type` (valid until the cursor moves).
        private func bytes(_ column: Int32, type: Int32) -> UnsafeRawBufferPointer? {
            guard sqlite3_column_type(self.raw, column) == type else { return nil }
            // The pointer first, then the length (sqlite3_column_bytes after _text/_blob does not convert).
            let pointer: UnsafeRawPointer? =
                type == SQLITE_TEXT
                ? sqlite3_column_text(self.raw, column).map { UnsafeRawPointer($0) }
                : sqlite3_column_blob(self.raw, column)
            let count = Int(sqlite3_column_bytes(self.raw, column))
            guard let pointer else { return count == 0 ? UnsafeRawBufferPointer(start: nil, count: 0) : nil }
            return UnsafeRawBufferPointer(start: pointer, count: count)
        }
    }
}

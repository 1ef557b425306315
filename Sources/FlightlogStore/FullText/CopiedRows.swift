import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// The rows one indexing transaction indexes, copied out of the evidence database (see
/// ``FullTextIndexer/indexNext(limit:)``): one byte buffer and the place of each column in it.
struct CopiedRows {
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

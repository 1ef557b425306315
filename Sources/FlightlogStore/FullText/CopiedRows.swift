import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// The rows one indexing transaction indexes, copied out of the evidence database (see
/// ``FullTextIndexer/indexNext(limit:)``): one byte buffer and the place of each column in it.
struct CopiedRows {
    /// Where one row's line and fields are: in `bytes`, or (the row holds the empty markers, see
    /// ``EventContentFunctions``) in event `index` of batch `batchID`.
    enum Content {
        case inRow(line: Range<Int>, fields: Range<Int>?)
        case inBatch(batchID: Int64, index: Int)
    }

    private struct Row {
        var id: Int64
        var program: Range<Int>?
        var content: Content
    }

    private var bytes: [UInt8] = []
    private var rows: [Row] = []
    /// The batches rows in them need, and those decoded (``resolveBatches(_:recent:contents:)``): a needed batch
    /// missing from `layouts` does not decode.
    private var neededBatches: Set<Int64> = []
    private var layouts: [Int64: EventLayout] = [:]

    /// How many rows were copied.
    var count: Int { self.rows.count }

    /// Copies up to `limit` rows after event `after` from `select` (`id, line, program, fields, batch_id, idx` from a
    /// bound `id > ? AND (id <= ? OR id % ? = ?) … LIMIT ?` query): every row up to `allThrough`, then those of
    /// `file`.
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
            let id = sqlite3_column_int64(select, 0)
            let program = RawColumn.text(select, 2).map { self.append($0) }
            let line = RawColumn.bytes(select, 1)
            let fields = RawColumn.text(select, 3)
            // Either marker empty: both come from the batch (ingest writes both; a row edited to one empty value
            // indexes what the batch holds, which is what readers show for it).
            if line.isEmpty || fields?.isEmpty == true {
                let batchID = sqlite3_column_int64(select, 4)
                self.rows.append(
                    Row(
                        id: id,
                        program: program,
                        content: .inBatch(batchID: batchID, index: Int(sqlite3_column_int64(select, 5)))
                    )
                )
                self.neededBatches.insert(batchID)
            } else {
                let line = self.append(line)
                let fields = fields.map { self.append($0) }
                self.rows.append(Row(id: id, program: program, content: .inRow(line: line, fields: fields)))
            }
        }
    }

    /// Decodes every batch the copied rows need: from `recent` when ingest still holds it, else from its stored
    /// envelope through `contents` (in the read transaction that copied the rows).
    mutating func resolveBatches(
        _ db: Database,
        recent: RecentBatches?,
        contents: BatchContentCache
    ) {
        for id in self.neededBatches {
            if let layout = recent?.layout(id) {
                self.layouts[id] = layout
            } else if let connection = db.sqliteConnection {
                // A batch that does not decode is `verify`'s to report; its rows are indexed without line or fields
                // rather than stop the index here for good.
                self.layouts[id] = try? contents.layout(of: id, db: connection)
            }
        }
    }

    private mutating func append(_ column: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = self.bytes.count
        self.bytes.append(contentsOf: column)
        return start..<self.bytes.count
    }

    /// What ``withEach(_:)`` hands over for one row's line and fields.
    enum Document {
        /// As the row holds them (`fields` nil: NULL).
        case inRow(line: UnsafeBufferPointer<UInt8>, fields: UnsafeBufferPointer<UInt8>?)
        /// Event `index` of a decoded batch; nil when the batch does not decode or has no such event.
        case inBatch(EventLayout, index: Int)
        case unreadable
    }

    /// Calls `body` with each row's id, `program` (nil: NULL) and line and fields.
    func withEach(_ body: (Int64, UnsafeBufferPointer<UInt8>?, Document) throws -> Void) throws {
        try self.bytes.withUnsafeBufferPointer { all in
            for row in self.rows {
                let program = row.program.map { UnsafeBufferPointer(rebasing: all[$0]) }
                switch row.content {
                case .inRow(let line, let fields):
                    let document = Document.inRow(
                        line: UnsafeBufferPointer(rebasing: all[line]),
                        fields: fields.map { UnsafeBufferPointer(rebasing: all[$0]) }
                    )
                    try body(row.id, program, document)
                case .inBatch(let batchID, let index):
                    if let layout = self.layouts[batchID], layout.entries.indices.contains(index) {
                        try body(row.id, program, .inBatch(layout, index: index))
                    } else {
                        try body(row.id, program, .unreadable)
                    }
                }
            }
        }
    }
}

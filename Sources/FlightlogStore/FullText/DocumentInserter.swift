import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// Inserts one event into `events_fts`: its line, its `program`, and its parsed fields as ``FieldsDocument``.
struct DocumentInserter {
    let db: Database
    let insert: Statement
    let pairs: Statement

    init(_ db: Database) throws {
        self.db = db
        self.insert = try db.cachedStatement(
            sql: "INSERT INTO events_fts (rowid, line, program, fields) VALUES (?, ?, ?, ?)"
        )
        // CAST: the text LIKE compares a decoded value as.
        self.pairs = try db.cachedStatement(sql: "SELECT key, CAST(value AS TEXT) FROM json_each(?)")
    }

    /// Leaves the statements inactive (after a failed step too).
    func reset() {
        sqlite3_reset(self.insert.sqliteStatement)
        sqlite3_reset(self.pairs.sqliteStatement)
    }

    /// Reused for every event's text.
    private var buffer: [UInt8] = []

    /// One copied row (see ``CopiedRows``): its line and fields as the row holds them, or from its batch's
    /// payload, whose ``FieldsDocument`` is the same text the row's JSON gives (`verify` derives the expected tokens
    /// from the payload the same way); an unreadable batch's row indexes its program only.
    mutating func insert(id: Int64, program: UnsafeBufferPointer<UInt8>?, _ document: CopiedRows.Document) throws {
        switch document {
        case .inRow(let line, let fields):
            try self.insert(id: id, line: line, program: program, fields: fields)
        case .unreadable:
            try self.insert(id: id, line: UnsafeBufferPointer(start: nil, count: 0), program: program, fields: nil)
        case .inBatch(let layout, let index):
            let entry = layout.entries[index]
            FieldsDocument.append(layout, entry, to: &self.buffer)
            let statement = layout.withBytes(entry.line) { self.bind(id: id, line: $0, program: program) }
            RawBind.text(statement, 4, self.buffer)
            try RawBind.step(statement, self.db)
        }
    }

    /// The insert, reset, with its id, line and `program` bound: the line as the writer used to index it, its UTF-8
    /// with invalid bytes replaced.
    private func bind(
        id: Int64,
        line: UnsafeBufferPointer<UInt8>,
        program: UnsafeBufferPointer<UInt8>?
    ) -> SQLiteStatement {
        let statement = self.insert.sqliteStatement
        sqlite3_reset(statement)
        sqlite3_bind_int64(statement, 1, id)
        if UTF8Text.isValid(line) {
            RawBind.text(statement, 2, line)
        } else {
            RawBind.text(statement, 2, String(decoding: line, as: UTF8.self))
        }
        RawBind.text(statement, 3, program)
        return statement
    }

    /// The columns as the row holds them (read in place); a NULL `fields` counts as `{}`.
    mutating func insert(
        id: Int64,
        line: UnsafeBufferPointer<UInt8>,
        program: UnsafeBufferPointer<UInt8>?,
        fields: UnsafeBufferPointer<UInt8>?
    ) throws {
        let statement = self.bind(id: id, line: line, program: program)
        switch fields {
        case nil:
            RawBind.text(statement, 4, [])
        case let fields? where FieldsDocument.append(fieldsJSON: fields, to: &self.buffer):
            RawBind.text(statement, 4, self.buffer)
        case let fields?:
            // Anything the fast decoder is unsure of: SQLite's own decoder, the one json_extract uses. Not JSON at
            // all (only a tampered row): nothing, as json_extract would fail on it too.
            let json = String(decoding: fields, as: UTF8.self)
            let pairs = (try? Row.fetchAll(self.pairs, arguments: [json])) ?? []
            let text = FieldsDocument.text(
                // Not GRDB's subscripts, which stop the process on a value that is not text: a tampered row's JSON
                // may be an array (integer keys) or hold numbers, and the indexer would stop at it on every start.
                pairs: pairs.map { row in
                    (key: String.fromDatabaseValue(row[0]) ?? "", value: String.fromDatabaseValue(row[1]) ?? "")
                }
            )
            RawBind.text(statement, 4, text)
        }
        try RawBind.step(statement, self.db)
    }
}

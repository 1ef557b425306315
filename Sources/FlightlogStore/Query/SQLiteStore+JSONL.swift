import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

extension SQLiteStore {
    /// Streams the JSON object of each event `query` selects (the bytes ``EventJSON/append(_:style:times:layout:to:)`` would
    /// write, without a newline) into `body`, in the order of ``forEachEvent(_:_:)``; returns how many were passed.
    ///
    /// This is the export hot path: columns are read straight from the SQLite statement into one reusable buffer,
    /// with no ``EventRecord``, `String` or `Data` per row, and the values a row leaves in its batch are read from the
    /// batch once per row (``BatchBackedRow``) rather than by six SQL functions. `body` gets the buffer holding one
    /// object, may append to it (a newline, a closing brace), and returns false to stop early.
    @discardableResult
    public func forEachEventJSON(
        _ query: EventQuery,
        style: EventJSON.Style = .plain,
        times: TimeFormatter = .utc,
        _ body: (inout [UInt8]) throws -> Bool
    ) throws -> Int {
        try self.readTranslatingErrors(query) { db in
            let (sql, arguments) = try Self.selectSQL(db, query, columns: Self.storedColumns)
            let statement = try db.makeStatement(sql: sql)
            try statement.setArguments(StatementArguments(arguments))
            let raw = statement.sqliteStatement
            let cursor = try Row.fetchCursor(statement)
            let batches = BatchContentCache(schema: "main", budget: BatchContentCache.defaultBudget)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(4096)
            var scratch: [UInt8] = []
            var count = 0
            while try cursor.next() != nil {
                count += 1
                buffer.removeAll(keepingCapacity: true)
                let row = try BatchBackedRow(raw, batches: batches, db: db)
                if !EventJSON.append(row: row, style: style, times: times, scratch: &scratch, to: &buffer) {
                    // Rare: a line that is not UTF-8 needs `message_b64`; take the general path.
                    EventJSON.append(try Self.eventRecord(db, id: row.id), style: style, times: times, to: &buffer)
                }
                guard try body(&buffer) else { break }
            }
            return count
        }
    }
}

/// The current row of a statement selecting ``SQLiteStore/storedColumns``, with the values the row leaves in its
/// signed batch located there: what ``EventContentFunctions`` would return for each column, with one batch look-up
/// for the row. Valid until the statement steps.
struct BatchBackedRow {
    let row: SQLiteStatement
    /// The event's batch and its entry there, when some column of the row holds a marker.
    private let layout: EventLayout?
    private let entry: EventLayout.Entry?
    private let spans: IndexedSpans?
    private let needs: (line: Bool, fields: Bool, observed: Bool, source: Bool, pid: Bool, severity: Bool)

    var id: Int64 { sqlite3_column_int64(self.row, 0) }

    init(_ row: SQLiteStatement, batches: BatchContentCache, db: Database) throws {
        self.row = row
        func holds(_ marker: EventContentFunctions.Marker, _ column: Int32) -> Bool {
            marker.matches(row, column, batchColumn: 18)
        }
        self.needs = (
            line: holds(.empty, 12), fields: holds(.empty, 13), observed: holds(.zero, 2),
            source: holds(.emptyText, 6), pid: holds(.null, 8), severity: holds(.null, 11)
        )
        guard
            self.needs.line || self.needs.fields || self.needs.observed || self.needs.source || self.needs.pid
                || self.needs.severity
        else {
            (self.layout, self.entry, self.spans) = (nil, nil, nil)
            return
        }
        let (layout, index) = try Self.event(
            sqlite3_column_int64(row, 17),
            of: sqlite3_column_int64(row, 18),
            batches,
            db
        )
        let entry = layout.entries[index]
        self.layout = layout
        self.entry = entry
        self.spans = self.needs.pid || self.needs.severity ? IndexedSpans(layout, entry) : nil
    }

    /// ``BatchContentCache/event(_:of:db:)``, failing as the SQL functions do when the event cannot be read.
    private static func event(
        _ index: Int64,
        of batchID: Int64,
        _ batches: BatchContentCache,
        _ db: Database
    ) throws -> (EventLayout, Int) {
        guard let connection = db.sqliteConnection else { throw DatabaseError(message: "the connection is closed") }
        do {
            return try batches.event(index, of: batchID, db: connection)
        } catch {
            throw DatabaseError(message: error.message)
        }
    }

    /// Calls `body` with the line's bytes.
    func withLine<T>(_ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        guard self.needs.line, let layout = self.layout, let entry = self.entry else {
            return body(RawColumn.bytes(self.row, 12))
        }
        return layout.withBytes(entry.line, body)
    }

    var observedNanos: Int64 {
        guard self.needs.observed, let entry = self.entry else { return sqlite3_column_int64(self.row, 2) }
        return entry.observedNanos
    }

    /// Appends the source, a text column or its batch's span, as a JSON string (or null).
    func appendSource(to out: inout [UInt8]) {
        guard self.needs.source, let layout = self.layout, let entry = self.entry else {
            JSONBytes.text(self.row, 6, to: &out)
            return
        }
        layout.withBytes(entry.source) { JSONBytes.string($0, to: &out) }
    }

    /// Appends the severity as a JSON string, or null.
    func appendSeverity(to out: inout [UInt8]) {
        guard self.needs.severity, let layout = self.layout else {
            JSONBytes.text(self.row, 11, to: &out)
            return
        }
        if let span = self.spans?.severity {
            layout.withBytes(span) { JSONBytes.string($0, to: &out) }
        } else {
            out += "null".utf8
        }
    }

    /// The process id, or nil.
    var pid: Int64? {
        guard self.needs.pid, self.layout != nil else {
            return sqlite3_column_type(self.row, 8) == SQLITE_NULL ? nil : sqlite3_column_int64(self.row, 8)
        }
        return self.spans?.pid
    }

    /// Appends the fields as every JSON output writes them (``FieldsJSON/appendForOutput(_:names:to:)``).
    func appendFields(scratch: inout [UInt8], to out: inout [UInt8]) {
        guard self.needs.fields, let layout = self.layout, let entry = self.entry else {
            if sqlite3_column_type(self.row, 13) == SQLITE_NULL {
                out += "{}".utf8
            } else {
                FieldsJSON.appendForOutput(RawColumn.bytes(self.row, 13), names: .ecs, to: &out)
            }
            return
        }
        guard !FieldsJSON.appendForOutput(layout, entry, names: .ecs, to: &out) else { return }
        // A repeated key: through the stored form, which groups its values.
        FieldsJSON.withJSON(layout, entry, scratch: &scratch) { FieldsJSON.appendForOutput($0, names: .ecs, to: &out) }
    }
}

extension EventJSON {
    /// Appends the object of `row`; false, with nothing appended, when its line is not UTF-8 (the general path
    /// writes it, with `message_b64`).
    static func append(
        row: BatchBackedRow,
        style: Style,
        times: TimeFormatter,
        scratch: inout [UInt8],
        to out: inout [UInt8]
    ) -> Bool {
        let valid = row.withLine { UTF8Text.isValid($0) }
        guard valid else { return false }
        let raw = row.row
        let writer = JSONBytes(times: times)
        if case .timesketch(let clock) = style {
            out += #"{"message":"#.utf8
            row.withLine { JSONBytes.string($0, to: &out) }
            out += #","datetime":"#.utf8
            writer.time(sqlite3_column_int64(raw, clock == .event ? 1 : 3), to: &out)
            out += (clock == .event ? #","timestamp_desc":"Event Time","# : #","timestamp_desc":"Received Time","#).utf8
            out += #""id":"#.utf8
        } else {
            out += #"{"id":"#.utf8
        }
        JSONBytes.integer(sqlite3_column_int64(raw, 0), to: &out)
        out += #","time":"#.utf8
        writer.time(sqlite3_column_int64(raw, 1), to: &out)
        out += #","received":"#.utf8
        writer.time(sqlite3_column_int64(raw, 3), to: &out)
        out += #","observed":"#.utf8
        writer.time(row.observedNanos, to: &out)
        out += #","host":"#.utf8
        JSONBytes.text(raw, 5, to: &out)
        out += #","agent":"#.utf8
        JSONBytes.text(raw, 14, to: &out)
        out += #","source":"#.utf8
        row.appendSource(to: &out)
        out += #","process.name":"#.utf8
        JSONBytes.text(raw, 7, to: &out)
        out += #","process.pid":"#.utf8
        if let pid = row.pid {
            JSONBytes.integer(pid, to: &out)
        } else {
            out += "null".utf8
        }
        out += #","user.name":"#.utf8
        JSONBytes.text(raw, 9, to: &out)
        out += #","source.ip":"#.utf8
        JSONBytes.text(raw, 10, to: &out)
        out += #","log.syslog.severity.name":"#.utf8
        row.appendSeverity(to: &out)
        let fromLine = Event.Flags(rawValue: UInt8(truncatingIfNeeded: sqlite3_column_int64(raw, 4))).contains(
            .timeFromLine
        )
        out += (fromLine ? #","time_from_line":true"# : #","time_from_line":false"#).utf8
        if case .plain = style {
            out += #","message":"#.utf8
            row.withLine { JSONBytes.string($0, to: &out) }
        }
        out += #","fields":"#.utf8
        row.appendFields(scratch: &scratch, to: &out)
        out += #","batch":{"agent":"#.utf8
        JSONBytes.text(raw, 14, to: &out)
        // Stored as the signed integer with the same bits (Migrations): written as the unsigned value it is.
        out += #","epoch":"#.utf8
        JSONBytes.unsigned(UInt64(bitPattern: sqlite3_column_int64(raw, 15)), to: &out)
        out += #","seq":"#.utf8
        JSONBytes.unsigned(UInt64(bitPattern: sqlite3_column_int64(raw, 16)), to: &out)
        out += #","index":"#.utf8
        JSONBytes.integer(sqlite3_column_int64(raw, 17), to: &out)
        out += "}}".utf8
        return true
    }
}

extension SQLiteStore {
    /// The record of event `id`, every column resolved by the SQL functions, for the rare slow path.
    static func eventRecord(_ db: Database, id: Int64) throws -> EventRecord {
        let statement = try db.makeStatement(sql: Self.selectColumns + "\nWHERE e.id = ?")
        try statement.setArguments([id])
        let cursor = try Row.fetchCursor(statement)
        guard try cursor.next() != nil else {
            throw DatabaseError(message: "event \(id) vanished while it was read")
        }
        return Self.eventRecord(row: statement.sqliteStatement)
    }

    /// The record of the current row of a statement selecting ``selectColumns``, for the rare slow path.
    static func eventRecord(row: SQLiteStatement) -> EventRecord {
        func text(_ index: Int32) -> String? {
            sqlite3_column_type(row, index) == SQLITE_NULL
                ? nil : String(decoding: RawColumn.bytes(row, index), as: UTF8.self)
        }
        func integer(_ index: Int32) -> Int64? {
            sqlite3_column_type(row, index) == SQLITE_NULL ? nil : sqlite3_column_int64(row, index)
        }
        return EventRecord(
            id: sqlite3_column_int64(row, 0),
            timeNanos: sqlite3_column_int64(row, 1),
            observedNanos: sqlite3_column_int64(row, 2),
            receivedNanos: sqlite3_column_int64(row, 3),
            flags: Event.Flags(rawValue: UInt8(truncatingIfNeeded: sqlite3_column_int64(row, 4))),
            host: text(5) ?? "",
            source: text(6) ?? "",
            program: text(7),
            pid: integer(8),
            user: text(9),
            sourceIP: text(10),
            severity: text(11),
            line: Array(RawColumn.bytes(row, 12)),
            fieldsJSON: text(13) ?? "{}",
            agent: text(14) ?? "",
            epoch: UInt64(bitPattern: sqlite3_column_int64(row, 15)),
            sequence: UInt64(bitPattern: sqlite3_column_int64(row, 16)),
            index: Int(sqlite3_column_int64(row, 17)),
            batchID: sqlite3_column_int64(row, 18)
        )
    }
}

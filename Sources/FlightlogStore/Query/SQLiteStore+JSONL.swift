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
    /// with no ``EventRecord``, `String` or `Data` per row. `body` gets the buffer holding one object, may append to
    /// it (a newline, a closing brace), and returns false to stop early.
    @discardableResult
    public func forEachEventJSON(
        _ query: EventQuery,
        style: EventJSON.Style = .plain,
        times: TimeFormatter = .utc,
        _ body: (inout [UInt8]) throws -> Bool
    ) throws -> Int {
        try self.readTranslatingErrors(query) { db in
            let (sql, arguments) = try Self.selectSQL(db, query)
            let statement = try db.makeStatement(sql: sql)
            try statement.setArguments(StatementArguments(arguments))
            let raw = statement.sqliteStatement
            let cursor = try Row.fetchCursor(statement)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(4096)
            var count = 0
            while try cursor.next() != nil {
                count += 1
                buffer.removeAll(keepingCapacity: true)
                EventJSON.append(row: raw, style: style, times: times, to: &buffer)
                guard try body(&buffer) else { break }
            }
            return count
        }
    }
}

extension EventJSON {
    /// Appends the object of the current row of a statement selecting ``SQLiteStore/selectColumns``.
    static func append(row: SQLiteStatement, style: Style, times: TimeFormatter, to out: inout [UInt8]) {
        let line = RawColumn.bytes(row, 12)
        guard UTF8Text.isValid(line) else {
            // Rare: a line that is not UTF-8 needs `message_b64`; take the general path.
            Self.append(SQLiteStore.eventRecord(row: row), style: style, times: times, to: &out)
            return
        }
        let writer = JSONBytes(times: times)
        if case .timesketch(let clock) = style {
            out += #"{"message":"#.utf8
            JSONBytes.string(line, to: &out)
            out += #","datetime":"#.utf8
            writer.time(sqlite3_column_int64(row, clock == .event ? 1 : 3), to: &out)
            out += (clock == .event ? #","timestamp_desc":"Event Time","# : #","timestamp_desc":"Received Time","#).utf8
            out += #""id":"#.utf8
        } else {
            out += #"{"id":"#.utf8
        }
        JSONBytes.integer(sqlite3_column_int64(row, 0), to: &out)
        out += #","time":"#.utf8
        writer.time(sqlite3_column_int64(row, 1), to: &out)
        out += #","received":"#.utf8
        writer.time(sqlite3_column_int64(row, 3), to: &out)
        out += #","observed":"#.utf8
        writer.time(sqlite3_column_int64(row, 2), to: &out)
        out += #","host":"#.utf8
        JSONBytes.text(row, 5, to: &out)
        out += #","agent":"#.utf8
        JSONBytes.text(row, 14, to: &out)
        out += #","source":"#.utf8
        JSONBytes.text(row, 6, to: &out)
        out += #","process.name":"#.utf8
        JSONBytes.text(row, 7, to: &out)
        out += #","process.pid":"#.utf8
        if sqlite3_column_type(row, 8) == SQLITE_NULL {
            out += "null".utf8
        } else {
            JSONBytes.integer(sqlite3_column_int64(row, 8), to: &out)
        }
        out += #","user.name":"#.utf8
        JSONBytes.text(row, 9, to: &out)
        out += #","source.ip":"#.utf8
        JSONBytes.text(row, 10, to: &out)
        out += #","log.syslog.severity.name":"#.utf8
        JSONBytes.text(row, 11, to: &out)
        let fromLine = Event.Flags(rawValue: UInt8(truncatingIfNeeded: sqlite3_column_int64(row, 4))).contains(
            .timeFromLine
        )
        out += (fromLine ? #","time_from_line":true"# : #","time_from_line":false"#).utf8
        if case .plain = style {
            out += #","message":"#.utf8
            JSONBytes.string(line, to: &out)
        }
        out += #","fields":"#.utf8
        let fields = RawColumn.bytes(row, 13)
        if sqlite3_column_type(row, 13) == SQLITE_NULL {
            out += "{}".utf8
        } else {
            FieldsJSON.appendForOutput(fields, names: .ecs, to: &out)
        }
        out += #","batch":{"agent":"#.utf8
        JSONBytes.text(row, 14, to: &out)
        // Stored as the signed integer with the same bits (Migrations): written as the unsigned value it is.
        out += #","epoch":"#.utf8
        JSONBytes.unsigned(UInt64(bitPattern: sqlite3_column_int64(row, 15)), to: &out)
        out += #","seq":"#.utf8
        JSONBytes.unsigned(UInt64(bitPattern: sqlite3_column_int64(row, 16)), to: &out)
        out += #","index":"#.utf8
        JSONBytes.integer(sqlite3_column_int64(row, 17), to: &out)
        out += "}}".utf8
    }
}

extension SQLiteStore {
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

import FlightlogEvidence
import FlightlogWire
public import GRDB
import GRDBSQLite

/// `event_line(line, batch_id, idx)` and `event_fields(fields, batch_id, idx)`: an event's raw line (a blob) and its
/// `fields` JSON (text), for SQL that reads either; `event_observed(observed_ns, batch_id, idx)`: when the agent
/// read it (an integer); `event_source(source, …)`, `event_severity(severity, …)` and `event_pid(pid, …)`: the file or
/// input it came from, and the severity and process id parsing found (columns that no B-tree index holds).
///
/// Ingest keeps neither in the row: `line` is stored as an empty blob and `fields` as empty text, and both are read
/// from the signed batch the event arrived in (`batches.envelope`), which holds them once, compressed. A row written
/// before that holds them in clear, and a stored value that is not empty is returned as it is: that is what a reader
/// of such a store always saw, and what `verify` compares with the signed batch. An empty stored value is only ever
/// the marker: a line that really is empty is empty in its batch too, and a `fields` JSON is at least `{}`. Likewise
/// `observed_ns` is stored as 0 (an integer 0 takes no bytes in an SQLite record) and read from the batch: an event
/// really observed at 0 reads 0 from its batch too. (`received_ns` is stored as 0 the same way; every reader takes it
/// from the event's batch, which holds the same value: ``receivedColumn(_:)``.) `source` is stored empty, `severity`
/// and `pid` NULL, and read from the batch: an event whose source really is empty, or that has no severity or pid,
/// reads the same from its batch (a row of an older store holds them as its batch does, which `verify` checks).
///
/// `event_line_contains_any(line, batch_id, idx, patterns)` searches the line for Sigma substrings where it lies,
/// registered here with `sigma_contains_any`, which shares its compiled patterns (``SubstringSetFunction``).
///
/// The batch is inflated once and kept in a small per-connection cache (``BatchContentCache``): a window query or a
/// scan in id order touches each batch's events together, so each batch is inflated about once per statement.
/// A batch whose envelope does not decode fails the statement with a message naming it (`verify` reports why): a
/// hunt must not pass over evidence it could not read.
///
/// Public for tools that open an evidence database with a connection of their own and read events with SQL.
public enum EventContentFunctions {
    /// The SQL for an event's line in a query over `events` aliased `alias`.
    static func line(_ alias: String = "e") -> String { Self.call("event_line", "line", alias) }

    /// The SQL for whether an event's line contains one of the patterns of the next parameter, over `events` aliased
    /// `alias`: `sigma_contains_any` of ``line(_:)`` (``SubstringSetFunction``), searching the line where it lies in
    /// the cached batch instead of copying it into an SQL value for each rule that searches it.
    static func lineContainsAny(_ alias: String = "e") -> String {
        "event_line_contains_any(\(alias).line, \(alias).batch_id, \(alias).idx, ?)"
    }

    /// The SQL for whether an event's `fields` JSON contains one of the patterns of the next parameter, over `events`
    /// aliased `alias`: `sigma_contains_any` of ``fields(_:)``, each row's JSON searched once for every rule's
    /// patterns (``SubstringMemo``).
    static func fieldsContainsAny(_ alias: String = "e") -> String {
        "event_fields_contains_any(\(alias).fields, \(alias).batch_id, \(alias).idx, ?)"
    }

    /// The SQL for an event's `fields` JSON in a query over `events` aliased `alias`.
    static func fields(_ alias: String = "e") -> String { Self.call("event_fields", "fields", alias) }

    /// The SQL for when the agent observed an event, in a query over `events` aliased `alias`.
    static func observed(_ alias: String = "e") -> String { Self.call("event_observed", "observed_ns", alias) }

    /// The SQL for an event's source (the file or input it came from), over `events` aliased `alias`.
    static func source(_ alias: String = "e") -> String { Self.call("event_source", "source", alias) }

    /// The SQL for an event's severity, over `events` aliased `alias`.
    static func severity(_ alias: String = "e") -> String { Self.call("event_severity", "severity", alias) }

    /// The SQL for an event's process id, over `events` aliased `alias`.
    static func pid(_ alias: String = "e") -> String { Self.call("event_pid", "pid", alias) }

    /// `function(alias.column, alias.batch_id, alias.idx)`.
    private static func call(_ function: String, _ column: String, _ alias: String) -> String {
        "\(function)(\(alias).\(column), \(alias).batch_id, \(alias).idx)"
    }

    /// The SQL for when the aggregator received an event: its batch's time (rows written since 2026-12-07 hold 0,
    /// earlier ones the same value as their batch, which `verify` checks), in a query over `events` aliased `alias`.
    static func receivedColumn(_ alias: String = "e") -> String {
        "(SELECT received_ns FROM batches WHERE id = \(alias).batch_id)"
    }

    /// Registers the functions on `db`, reading batches from `schema`'s `batches` table (`main` for the store's
    /// connections, the name the store is attached under elsewhere), with a cache of the connection's own.
    public static func register(_ db: Database, schema: String = "main") throws {
        let cache = BatchContentCache(schema: schema, budget: BatchContentCache.defaultBudget)
        let functions: [(String, Int32, Implementation)] = [
            ("event_line", 3, Self.lineFunction), ("event_fields", 3, Self.fieldsFunction),
            ("event_observed", 3, Self.observedFunction), ("event_source", 3, Self.sourceFunction),
            ("event_severity", 3, Self.severityFunction), ("event_pid", 3, Self.pidFunction),
            ("event_line_contains_any", 4, Self.lineContainsAnyFunction),
            ("event_fields_contains_any", 4, Self.fieldsContainsAnyFunction),
        ]
        for (name, arity, function) in functions {
            // One reference per registration: SQLite calls `destroy` once for each when the connection closes.
            let data = Unmanaged.passRetained(cache).toOpaque()
            let code = sqlite3_create_function_v2(
                db.sqliteConnection,
                name,
                arity,
                SQLITE_UTF8,
                data,
                function,
                nil,
                nil,
                Self.destroy
            )
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot register \(name)")
            }
        }
        // `sigma_contains_any` shares the connection's compiled patterns with `event_line_contains_any`.
        try SubstringSetFunction.register(db, patternSets: cache.patternSets)
    }

    private static let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { data in
        guard let data else { return }
        Unmanaged<BatchContentCache>.fromOpaque(data).release()
    }

    /// The C signature of an SQL function's implementation.
    private typealias Implementation =
        @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?)
        -> Void

    /// What a row holds in a column whose value is to be read from the event's batch.
    enum Marker {
        /// An empty value of any storage class but NULL (`line` is `x''`, `fields` is `''`).
        case empty
        /// The integer 0 (`observed_ns`).
        case zero
        /// Empty text (`source`).
        case emptyText
        /// NULL (`pid`, `severity`), in a row: with no batch id it is an outer join's missing row, and stays NULL.
        case null

        /// Whether a function's argument `stored` is the marker; `batch` is its batch id argument.
        func matches(_ stored: OpaquePointer, batch: OpaquePointer?) -> Bool {
            self.matches(
                type: sqlite3_value_type(stored),
                bytes: { sqlite3_value_bytes(stored) },
                integer: { sqlite3_value_int64(stored) },
                batchIsNull: sqlite3_value_type(batch) == SQLITE_NULL
            )
        }

        /// Whether column `column` of the current row of `row` is the marker; `batchColumn` holds its batch id.
        func matches(_ row: SQLiteStatement, _ column: Int32, batchColumn: Int32) -> Bool {
            self.matches(
                type: sqlite3_column_type(row, column),
                bytes: { sqlite3_column_bytes(row, column) },
                integer: { sqlite3_column_int64(row, column) },
                batchIsNull: sqlite3_column_type(row, batchColumn) == SQLITE_NULL
            )
        }

        private func matches(
            type: Int32,
            bytes: () -> Int32,
            integer: () -> Int64,
            batchIsNull: Bool
        ) -> Bool {
            switch self {
            case .empty: return type != SQLITE_NULL && bytes() == 0
            case .zero: return type == SQLITE_INTEGER && integer() == 0
            case .emptyText: return type == SQLITE_TEXT && bytes() == 0
            case .null: return type == SQLITE_NULL && !batchIsNull
            }
        }
    }

    private static let lineFunction: Implementation = { context, count, arguments in
        EventContentFunctions.fromBatch(context, count, arguments, marker: .empty) { context, _, layout, _, index in
            layout.withBytes(layout.entries[index].line) { line in
                if let base = line.baseAddress, line.count > 0 {
                    sqlite3_result_blob(context, base, Int32(line.count), Self.transient)
                } else {
                    sqlite3_result_zeroblob(context, 0)
                }
            }
        }
    }

    /// `event_line_contains_any(line, batch_id, idx, patterns)`: `sigma_contains_any` of `event_line`'s result, the
    /// line searched where it lies, in the row or in the cached batch.
    private static let lineContainsAnyFunction: Implementation = { context, count, arguments in
        EventContentFunctions.containsAny(context, count, arguments) { cache, layout, batchID, index, set in
            layout.withBytes(layout.entries[index].line) {
                cache.lineMemo.found(set, batchID: batchID, index: Int64(index), in: UnsafeRawBufferPointer($0))
            }
        }
    }

    /// `event_fields_contains_any(fields, batch_id, idx, patterns)`: `sigma_contains_any` of `event_fields`'s result,
    /// the JSON written once per row, and searched once per row for every pattern set (``SubstringMemo``).
    private static let fieldsContainsAnyFunction: Implementation = { context, count, arguments in
        EventContentFunctions.containsAny(context, count, arguments) { cache, layout, batchID, index, set in
            cache.withFieldsJSON(layout, batchID: batchID, index) { json in
                // `event_fields` gives `{}` for an event without fields.
                let bytes =
                    json.isEmpty
                    ? UnsafeRawBufferPointer(start: Self.emptyObject.utf8Start, count: 2) : UnsafeRawBufferPointer(json)
                return cache.fieldsMemo.found(set, batchID: batchID, index: Int64(index), in: bytes)
            }
        }
    }

    /// The body of `event_line_contains_any` and `event_fields_contains_any` (4 arguments, the patterns last): a
    /// value the row holds is searched as `sigma_contains_any` would (NULL stays NULL, as `CAST(event_line(…) AS
    /// TEXT)` would give it), an event in its batch by `search` (given the cache, the batch's layout, its id, the
    /// event's index and the compiled patterns).
    private static func containsAny(
        _ context: OpaquePointer?,
        _ count: Int32,
        _ arguments: UnsafeMutablePointer<OpaquePointer?>?,
        _ search: (BatchContentCache, EventLayout, Int64, Int, SubstringSetFunction.PatternSet) -> Bool
    ) {
        guard let arguments, count == 4, let data = sqlite3_user_data(context) else { return }
        let set = Unmanaged<BatchContentCache>.fromOpaque(data).takeUnretainedValue().patternSets.set(arguments[3])
        let inRow: (OpaquePointer, OpaquePointer) -> Void = { context, stored in
            if sqlite3_value_type(stored) == SQLITE_NULL {
                sqlite3_result_null(context)
            } else {
                sqlite3_result_int(context, SubstringSetFunction.withBytes(stored) { set.found(in: $0) } ? 1 : 0)
            }
        }
        EventContentFunctions.fromBatch(context, count, arguments, marker: .empty, arity: 4, stored: inRow) {
            context,
            cache,
            layout,
            batchID,
            index in
            sqlite3_result_int(context, search(cache, layout, batchID, index, set) ? 1 : 0)
        }
    }

    /// `{}`, the JSON of no fields.
    private static let emptyObject: StaticString = "{}"

    private static let fieldsFunction: Implementation = { context, count, arguments in
        EventContentFunctions.fromBatch(context, count, arguments, marker: .empty) {
            context,
            cache,
            layout,
            batchID,
            index in
            cache.withFieldsJSON(layout, batchID: batchID, index) { json in
                if let base = json.baseAddress, json.count > 0 {
                    base.withMemoryRebound(to: CChar.self, capacity: json.count) {
                        sqlite3_result_text(context, $0, Int32(json.count), Self.transient)
                    }
                } else {
                    sqlite3_result_text(context, "{}", 2, Self.transient)
                }
            }
        }
    }

    private static let observedFunction: Implementation = { context, count, arguments in
        EventContentFunctions.fromBatch(context, count, arguments, marker: .zero) { context, _, layout, _, index in
            sqlite3_result_int64(context, layout.entries[index].observedNanos)
        }
    }

    private static let sourceFunction: Implementation = { context, count, arguments in
        EventContentFunctions.fromBatch(context, count, arguments, marker: .emptyText) {
            context,
            _,
            layout,
            _,
            index in
            Self.resultText(context, layout, layout.entries[index].source)
        }
    }

    private static let severityFunction: Implementation = { context, count, arguments in
        EventContentFunctions.fromBatch(context, count, arguments, marker: .null) { context, _, layout, _, index in
            let span = IndexedSpans(layout, layout.entries[index]).severity
            if let span { Self.resultText(context, layout, span) } else { sqlite3_result_null(context) }
        }
    }

    private static let pidFunction: Implementation = { context, count, arguments in
        EventContentFunctions.fromBatch(context, count, arguments, marker: .null) { context, _, layout, _, index in
            if let pid = IndexedSpans(layout, layout.entries[index]).pid {
                sqlite3_result_int64(context, pid)
            } else {
                sqlite3_result_null(context)
            }
        }
    }

    /// Sets the bytes of `span` in `layout`'s payload as the function's text result.
    private static func resultText(_ context: OpaquePointer, _ layout: EventLayout, _ span: EventLayout.Span) {
        layout.withBytes(span) { text in
            if let base = text.baseAddress, text.count > 0 {
                base.withMemoryRebound(to: CChar.self, capacity: text.count) {
                    sqlite3_result_text(context, $0, Int32(text.count), Self.transient)
                }
            } else {
                sqlite3_result_text(context, "", 0, Self.transient)
            }
        }
    }

    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// The body of every function `f(stored, batch_id, idx, …)` (`arity` arguments): a stored value other than
    /// `marker` is the row's own, and `stored` sets the result from it (by default, it is the result); for the
    /// marker, `body` sets the result from event `idx` of batch `batch_id` (given the context, the connection's
    /// cache, the batch's layout, its id and the index), or the function fails naming why (the batch does not
    /// decode, the event is not in it).
    private static func fromBatch(
        _ context: OpaquePointer?,
        _ count: Int32,
        _ arguments: UnsafeMutablePointer<OpaquePointer?>?,
        marker: Marker,
        arity: Int32 = 3,
        stored: (OpaquePointer, OpaquePointer) -> Void = { sqlite3_result_value($0, $1) },
        _ body: (OpaquePointer, BatchContentCache, EventLayout, Int64, Int) -> Void
    ) {
        guard let context, let arguments, count == arity, let value = arguments[0] else { return }
        guard marker.matches(value, batch: arguments[1]) else {
            stored(context, value)
            return
        }
        guard let batchValue = arguments[1], let indexValue = arguments[2],
            sqlite3_value_type(batchValue) == SQLITE_INTEGER, sqlite3_value_type(indexValue) == SQLITE_INTEGER,
            let data = sqlite3_user_data(context), let db = sqlite3_context_db_handle(context)
        else {
            sqlite3_result_error(context, "event_* functions: batch id and index must be integers", -1)
            return
        }
        let cache = Unmanaged<BatchContentCache>.fromOpaque(data).takeUnretainedValue()
        let batchID = sqlite3_value_int64(batchValue)
        let layout: EventLayout
        let index: Int
        do {
            (layout, index) = try cache.event(sqlite3_value_int64(indexValue), of: batchID, db: db)
        } catch {
            sqlite3_result_error(context, error.message, -1)
            return
        }
        body(context, cache, layout, batchID, index)
    }
}

/// Why a stored batch's content could not be read.
struct BatchContentError: Error {
    var message: String
}

extension EventLayout {
    /// Roughly the memory a decoded batch holds: its payload, and the spans of its events and fields. What the caches
    /// of decoded batches (``BatchContentCache``, ``RecentBatches``) count against their budgets.
    var retainedBytes: Int { self.bytes.count + 64 * self.entries.count + 32 * self.fields.count }
}

extension FieldsJSON {
    /// Calls `body` with the `fields` JSON of `entry`, as ingest wrote it into rows in clear, written into
    /// `scratch` (grown when too small, reused from call to call).
    static func withJSON<T>(
        _ layout: EventLayout,
        _ entry: EventLayout.Entry,
        scratch: inout [UInt8],
        _ body: (UnsafeBufferPointer<UInt8>) -> T
    ) -> T {
        let bound = Self.maxLength(layout, entry)
        if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
        var count = 0
        scratch.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Self.write(layout, entry, to: base, at: &count)
        }
        return scratch.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<count])) }
    }
}

/// The batches one connection inflated last, most recent last, within ``budget`` bytes.
///
/// Unchecked `Sendable`: SQLite calls a function only on the connection it was registered on, one statement step at a
/// time, and each connection has a cache of its own; nothing else holds a reference.
final class BatchContentCache: @unchecked Sendable {
    /// ~32 MiB: a few hundred batches of the agent's usual size, so that a query whose rows interleave many agents'
    /// batches (a timeline across hosts) still inflates each about once.
    static let defaultBudget = 32 << 20

    let schema: String
    /// The compiled patterns of `event_line_contains_any`.
    let patternSets = SubstringSetFunction.PatternSetCache()
    /// What every pattern set found in the last event's line, and in its `fields` JSON.
    let lineMemo = SubstringMemo(slot: 0)
    let fieldsMemo = SubstringMemo(slot: 1)
    let budget: Int
    private var entries: [(id: Int64, layout: EventLayout)] = []
    private var held = 0
    /// Where an event's `fields` JSON is written, reused from call to call (a scan asks for millions), and whose it
    /// is: a hunt's condition asks for the same event's fields more than once (a `LIKE` before `json_each`).
    private var scratch: [UInt8] = []
    private var scratchHolds: (batchID: Int64, index: Int, count: Int)?

    init(schema: String, budget: Int) {
        self.schema = schema
        self.budget = budget
    }

    /// Calls `body` with event `index`'s `fields` JSON, written by the same ``FieldsJSON`` ingest and `verify` use,
    /// so that it is byte for byte what a row in clear holds.
    func withFieldsJSON<T>(
        _ layout: EventLayout,
        batchID: Int64,
        _ index: Int,
        _ body: (UnsafeBufferPointer<UInt8>) -> T
    ) -> T {
        if let held = self.scratchHolds, held.batchID == batchID, held.index == index {
            return self.scratch.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<held.count])) }
        }
        var count = 0
        let result = FieldsJSON.withJSON(layout, layout.entries[index], scratch: &self.scratch) { json in
            count = json.count
            return body(json)
        }
        self.scratchHolds = (batchID, index, count)
        return result
    }

    /// Event `index` of batch `batchID`: the batch's layout (``layout(of:db:)``) and the index, checked to be in it.
    func event(
        _ index: Int64,
        of batchID: Int64,
        db: OpaquePointer
    ) throws(BatchContentError) -> (EventLayout, Int) {
        let layout = try self.layout(of: batchID, db: db)
        guard index >= 0, index < Int64(layout.entries.count) else {
            throw BatchContentError(
                message:
                    "event \(index) of batch \(batchID) is not in its signed payload (\(layout.entries.count) events); run `flightlog verify`"
            )
        }
        return (layout, Int(index))
    }

    /// Batch `batchID`'s events, located in its inflated payload: from the cache, or read and inflated.
    func layout(of batchID: Int64, db: OpaquePointer) throws(BatchContentError) -> EventLayout {
        if let last = self.entries.last, last.id == batchID { return last.layout }
        if let position = self.entries.lastIndex(where: { $0.id == batchID }) {
            let entry = self.entries.remove(at: position)
            self.entries.append(entry)
            return entry.layout
        }
        let layout = try self.load(batchID, db: db)
        self.entries.append((batchID, layout))
        self.held += layout.retainedBytes
        while self.held > self.budget, self.entries.count > 1 {
            self.held -= self.entries.removeFirst().layout.retainedBytes
        }
        return layout
    }

    private func load(_ batchID: Int64, db: OpaquePointer) throws(BatchContentError) -> EventLayout {
        var statement: OpaquePointer?
        let sql = "SELECT envelope FROM \(self.schema).batches WHERE id = ?"
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw BatchContentError(message: "cannot read batch \(batchID): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(statement) }
        sqlite3_bind_int64(statement, 1, batchID)
        let step = sqlite3_step(statement)
        guard step == SQLITE_ROW else {
            if step == SQLITE_DONE {
                throw BatchContentError(
                    message: "batch \(batchID), which a stored event names, is not stored; run `flightlog verify`"
                )
            }
            throw BatchContentError(message: "cannot read batch \(batchID): \(String(cString: sqlite3_errmsg(db)))")
        }
        let count = Int(sqlite3_column_bytes(statement, 0))
        let bytes: [UInt8]
        if count > 0, let blob = sqlite3_column_blob(statement, 0) {
            bytes = Array(UnsafeRawBufferPointer(start: blob, count: count))
        } else {
            bytes = []
        }
        do {
            return try SignedBatch(bytes: bytes).decodeLayout(inflate: LibdeflateInflater.inflate)
        } catch {
            throw BatchContentError(
                message: "batch \(batchID)'s stored envelope does not decode (\(error)); run `flightlog verify`"
            )
        }
    }
}

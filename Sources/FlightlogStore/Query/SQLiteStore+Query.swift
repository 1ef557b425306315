import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore {
    /// Streams the events `query` selects, in time order on its clock, into `body`, one at a time from a GRDB
    /// cursor inside one read transaction (a consistent snapshot); returns how many were passed.
    ///
    /// `body` returns false to stop early (for example when the reader of the output went away).
    @discardableResult
    public func forEachEvent(_ query: EventQuery, _ body: (EventRecord) throws -> Bool) throws -> Int {
        try self.readTranslatingErrors(query) { db in
            let (sql, arguments) = try Self.selectSQL(db, query)
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
            var count = 0
            while let row = try cursor.next() {
                count += 1
                guard try body(Self.eventRecord(row)) else { break }
            }
            return count
        }
    }

    /// How many events `query` selects (its limit ignored).
    public func countEvents(_ query: EventQuery) throws -> Int {
        try self.readTranslatingErrors(query) { db in
            let (clause, arguments) = try Self.whereClause(db, query)
            return try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM events e" + clause,
                arguments: StatementArguments(arguments)
            ) ?? 0
        }
    }

    /// The SQL and parameters ``forEachEvent(_:_:)`` (or ``countEvents(_:)`` when `count`) would run, with its plan.
    public func explain(_ query: EventQuery, count: Bool = false) throws -> QueryExplanation {
        try self.readTranslatingErrors(query) { db in
            let sql: String
            let arguments: [DatabaseValue]
            if count {
                let (clause, clauseArguments) = try Self.whereClause(db, query)
                sql = "SELECT COUNT(*) FROM events e" + clause
                arguments = clauseArguments
            } else {
                (sql, arguments) = try Self.selectSQL(db, query)
            }
            let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(arguments))
                .map {
                    String.fromDatabaseValue($0["detail"]) ?? ""
                }
            let shown = arguments.map { value -> String in
                switch value.storage {
                case .null: "NULL"
                case .int64(let int): String(int)
                case .double(let double): String(double)
                case .string(let string): "'" + string.replacingOccurrences(of: "'", with: "''") + "'"
                case .blob(let data): "x'" + data.hexString + "'"
                }
            }
            return QueryExplanation(sql: sql, arguments: shown, plan: plan)
        }
    }

    // MARK: - SQL

    static let selectColumns = """
        SELECT e.id, e.time_ns, \(EventContentFunctions.observed()), b.received_ns, e.flags, e.host,
               \(EventContentFunctions.source()), e.program, \(EventContentFunctions.pid()), e.user,
               e.src_ip, \(EventContentFunctions.severity()), \(EventContentFunctions.line()), \(EventContentFunctions.fields()), a.name, b.epoch, b.seq, e.idx, e.batch_id
        FROM events e CROSS JOIN agents a ON a.id = e.agent_id CROSS JOIN batches b ON b.id = e.batch_id
        """

    static func timeColumn(_ clock: EventQuery.Clock) -> String {
        clock == .event ? "e.time_ns" : EventContentFunctions.receivedColumn()
    }

    /// ``selectColumns`` in the same order, with each stored column as the row holds it (a marker where the value is
    /// read from the batch, see ``EventContentFunctions``): for readers that resolve markers themselves
    /// (``BatchBackedRow``), one batch look-up per row instead of one per function.
    static let storedColumns = """
        SELECT e.id, e.time_ns, e.observed_ns, b.received_ns, e.flags, e.host, e.source, e.program, e.pid, e.user,
               e.src_ip, e.severity, e.line, e.fields, a.name, b.epoch, b.seq, e.idx, e.batch_id
        FROM events e CROSS JOIN agents a ON a.id = e.agent_id CROSS JOIN batches b ON b.id = e.batch_id
        """

    static func selectSQL(
        _ db: Database,
        _ query: EventQuery,
        columns: String = SQLiteStore.selectColumns
    ) throws -> (String, [DatabaseValue]) {
        var (clause, arguments) = try Self.whereClause(db, query)
        let direction = query.order == .asc ? "ASC" : "DESC"
        // A rule over the whole store reads every row anyway: in table order, sorting only the matches, rather
        // than walking the time index with one table look-up per row (the `+` keeps the index out of ORDER BY).
        let wholeStoreRule = query.rule != nil && query.sinceNanos == nil && query.untilNanos == nil
        let order = (wholeStoreRule ? "+" : "") + Self.timeColumn(query.clock)
        var sql =
            columns + clause
            + "\nORDER BY \(order) \(direction), e.id \(direction)"
        if let limit = query.limit {
            sql += "\nLIMIT ?"
            arguments.append(limit.databaseValue)
        }
        return (sql, arguments)
    }

    /// ` WHERE …` over `events e` (empty when nothing filters), with its arguments.
    static func whereClause(_ db: Database, _ query: EventQuery) throws -> (String, [DatabaseValue]) {
        var terms: [String] = []
        var arguments: [DatabaseValue] = []
        let time = Self.timeColumn(query.clock)
        var since = query.sinceNanos
        var until = query.untilNanos
        if let id = query.aroundEventID {
            guard
                let center = try Int64.fetchOne(db, sql: "SELECT \(time) FROM events e WHERE e.id = ?", arguments: [id])
            else { throw StoreError.unknownEvent(id) }
            // The centre is an event time an agent chose (any i64), the window a flag: saturate, never trap.
            since = max(since ?? Int64.min, center.subtractingSaturating(query.aroundWindowNanos))
            // The window ends at centre + window included; `until` excludes. Up to 2^63 − 1 there is no time after it
            // to exclude, so the bound is left as it was.
            let end = center.addingSaturating(query.aroundWindowNanos)
            if end < Int64.max { until = min(until ?? Int64.max, end + 1) }
        }
        if let since {
            terms.append("\(time) >= ?")
            arguments.append(since.databaseValue)
        }
        if let until {
            terms.append("\(time) < ?")
            arguments.append(until.databaseValue)
        }
        for (column, value) in [
            ("e.host", query.host), ("e.user", query.user), ("e.program", query.program),
            (EventContentFunctions.source(), query.source), ("e.src_ip", query.ip),
        ] {
            guard let value else { continue }
            terms.append("\(column) = ?")
            arguments.append(value.databaseValue)
        }
        if query.ip != nil { terms.append(Self.sourceIPRangeTerm) }
        if let agent = query.agent {
            guard let agentID = try Int64.fetchOne(db, sql: "SELECT id FROM agents WHERE name = ?", arguments: [agent])
            else { throw StoreError.unknownAgent(name: agent) }
            terms.append("e.agent_id = ?")
            arguments.append(agentID.databaseValue)
        }
        if let match = query.match {
            // The line column only: the same table holds `program` and the parsed fields for hunts.
            terms.append("e.id IN (SELECT id FROM \(FullTextLayout.view) WHERE line MATCH ?)")
            arguments.append(match.databaseValue)
        }
        // A key may repeat in one event (PROTOCOL.md §6): a condition holds when any of its values meets it, and
        // `!=` when none equals the value. json_extract would read only the first of them.
        for condition in query.conditions {
            let values = "SELECT 1 FROM json_each(\(EventContentFunctions.fields())) WHERE key = ? AND value"
            switch condition.op {
            case .equals:
                terms.append("EXISTS (\(values) = ?)")
            case .notEquals:
                terms.append("NOT EXISTS (\(values) = ?)")
            case .matches:
                try RegexFunction.validate(condition.value)
                terms.append("EXISTS (\(values) REGEXP ?)")
            }
            arguments += [condition.field.databaseValue, condition.value.databaseValue]
        }
        if let ids = query.eventIDs {
            terms.append("e.id IN (" + Array(repeating: "?", count: ids.count).joined(separator: ",") + ")")
            arguments += ids.map(\.databaseValue)
        }
        if let restriction = query.restriction {
            terms.append("(" + restriction.sql + ")")
            arguments += restriction.arguments
        }
        if let rule = query.rule {
            if let candidates = rule.candidates, let (sql, candidateArguments) = try Self.candidates(db, candidates) {
                // Candidates through the full-text indexes; the exact condition below still decides.
                terms.append("e.id IN (" + sql + ")")
                arguments += candidateArguments
            }
            terms.append("(" + rule.sql + ")")
            arguments += rule.arguments.map(\.databaseValue)
        }
        return (terms.isEmpty ? "" : "\nWHERE " + terms.joined(separator: "\n  AND "), arguments)
    }

    /// True of every event (each id falls in one of the ranges `0 … MAX(id) >> 18`), and what lets SQLite look a
    /// source IP up in `events_ip_range`, whose key starts with the id range (migration v5): one seek per range,
    /// instead of a scan. The expression must stay the index's own, `id >> 18`, for SQLite to match it.
    static let sourceIPRangeTerm = """
        (e.id >> 18) IN (WITH RECURSIVE ranges(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM ranges \
        WHERE n < (SELECT MAX(id) >> 18 FROM events)) SELECT n FROM ranges)
        """

    /// Full-text candidates above this share of the stored events (one in ten) are not worth it. A scan evaluates the
    /// condition on every row (~0.45 µs for a `json_extract` on a 10 M-event store); a candidate costs ~2.8 µs (its
    /// id, the page, the row), so the two meet near a sixth of the store. At one in fifty, SigmaHQ's process_creation
    /// rules scanned 10 M events each (3.0 s) for 215,000 candidates (2.0 s through the index).
    static let fullTextCandidateShare = 10
    /// Below this many candidates the full-text side is always used (small stores, tests).
    static let fullTextCandidateFloor = 10_000

    /// The row ids to check for a rule with these candidates: the full-text searches' results, plus every event
    /// the index has not reached yet (past its watermark: the indexer trails the commit, and an upgraded index
    /// file is refilled from the first event). Nil, for a scan, when the index is missing or in an older layout (an
    /// absent full-text file, or one no `serve` of this version has upgraded yet, on read-only media say), or when
    /// the ids are not few: more than a tenth of the stored events, counted with a `LIMIT`ed query, which is
    /// cheap next to fetching that many rows.
    static func candidates(_ db: Database, _ candidates: CandidateSet) throws -> (String, [DatabaseValue])? {
        guard let search = try Self.candidateSearch(db, candidates) else { return nil }
        let found =
            try Int64.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM (" + search.sql + " LIMIT ?)",
                arguments: StatementArguments(search.arguments + [(search.room + 1).databaseValue])
            ) ?? 0
        guard found <= search.room else { return nil }
        return (
            "SELECT id FROM (" + search.sql + ") UNION ALL SELECT id FROM events WHERE id > ?",
            search.arguments + [search.watermark.databaseValue]
        )
    }

    /// ``candidates(_:_:)`` fetched: the full-text searches' ids, ascending, and the watermark past which every
    /// event is a candidate too; nil for a scan, on the same grounds. For a hunt's passes, which read the candidates
    /// in several id ranges on several connections: the search runs once, not once per range.
    static func candidateIDs(_ db: Database, _ candidates: CandidateSet) throws -> (ids: [Int64], watermark: Int64)? {
        guard let search = try Self.candidateSearch(db, candidates) else { return nil }
        var ids = try Int64.fetchAll(
            db,
            sql: search.sql + " LIMIT ?",
            arguments: StatementArguments(search.arguments + [(search.room + 1).databaseValue])
        )
        guard ids.count <= search.room else { return nil }
        ids.sort()
        return (ids, search.watermark)
    }

    /// The SQL of the full-text searches `candidates` needs, how many ids they may find before a scan is cheaper,
    /// and the index's watermark; nil when the index cannot serve (see ``candidates(_:_:)``).
    private static func candidateSearch(
        _ db: Database,
        _ candidates: CandidateSet
    ) throws -> (sql: String, arguments: [DatabaseValue], room: Int64, watermark: Int64)? {
        // Only readers attach the full-text files; before index-file migration v8 `events_fts` had the line only.
        let index = try AttachedFullText(db)
        guard index.isCurrent else { return nil }
        let watermark = index.indexedThrough
        let stored = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM events") ?? 0
        let cap = max(Int64(Self.fullTextCandidateFloor), stored / Int64(Self.fullTextCandidateShare))
        let unindexed = max(0, stored.subtractingSaturating(watermark))
        guard unindexed <= cap else { return nil }
        var arguments: [DatabaseValue] = []
        let sql = candidates.sql(&arguments)
        return (sql, arguments, cap - unindexed, watermark)
    }

    static func eventRecord(_ row: Row) -> EventRecord {
        let line: Data = row[12] ?? Data()
        return EventRecord(
            id: row[0],
            timeNanos: row[1],
            observedNanos: row[2],
            receivedNanos: row[3],
            flags: Event.Flags(rawValue: UInt8(truncatingIfNeeded: row[4] as Int64)),
            host: row[5],
            source: row[6],
            program: row[7],
            pid: row[8],
            user: row[9],
            sourceIP: row[10],
            severity: row[11],
            line: Array(line),
            fieldsJSON: row[13] ?? "{}",
            agent: row[14],
            epoch: (row[15] as Int64).unsignedValue,
            sequence: (row[16] as Int64).unsignedValue,
            index: row[17],
            batchID: row[18]
        )
    }

    // MARK: - Errors

    /// Runs `body` in a read transaction; SQLite's full-text syntax errors become ``StoreError/badMatch(expression:reason:)``.
    func readTranslatingErrors<T>(_ query: EventQuery, _ body: (Database) throws -> T) throws -> T {
        do {
            return try self.pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            let message = error.message ?? "\(error)"
            if message.contains("no such table: \(FullTextLayout.view)") {
                // Opened without the full-text files because they cannot be read.
                if let file = self.leftOutFullText.first {
                    throw StoreError.database("\(StoreError.fullTextDamaged(path: file.path, reason: file.reason))")
                }
                // A full-text file is missing (removed to be rebuilt, or never created by this database's serve), or
                // is a database without an index in it.
                let paths = FullTextLayout.paths(for: self.path)
                let problem =
                    paths.first { !FileManager.default.fileExists(atPath: $0) }.map { "\($0) is missing" }
                    ?? "\(paths.joined(separator: " and ")) hold no complete index"
                throw StoreError.database(
                    "no full-text index: \(problem). `flightlog serve` "
                        + "rebuilds it from the stored events when it starts; searches without --match work meanwhile"
                )
            }
            if let match = query.match,
                message.contains("fts5") || message.contains("no such column") || message.contains("unterminated")
                    || message.contains("unknown special query")
            {
                throw StoreError.badMatch(expression: match, reason: message)
            }
            throw StoreError.database(message)
        }
    }
}

import FlightlogEvidence
import FlightlogSigma
import FlightlogWire
import GRDB

/// Reads the matches of the rules a correlation relates and evaluates it, recursively for correlations of
/// correlations: on the SQLite store inside one read transaction (`db`), on another store through its
/// ``EventReading`` (`reader`), reading each rule whole and taking the group-by values as the SQLite store does.
struct CorrelationRunner {
    let db: Database?
    let reader: (any EventReading)?
    let rules: SigmaRuleSet
    let query: EventQuery
    let narrowing: Bool
    /// The query's own limit on hits (`query` has none: every match counts).
    let limit: Int?

    /// Narrowing a later rule costs one OR term per window; beyond this many it reads the rule whole.
    static let maximumWindows = 2_000
    /// Deeper chains than this are refused (a cycle that escaped the loader's check, say).
    static let maximumDepth = 16

    init(db: Database, rules: SigmaRuleSet, query: EventQuery, narrowing: Bool) {
        self.init(db: db, reader: nil, rules: rules, query: query, narrowing: narrowing)
    }

    /// Through `reader`: every rule read whole (no SQL narrowing), the same hits.
    init(reader: any EventReading, rules: SigmaRuleSet, query: EventQuery) {
        self.init(db: nil, reader: reader, rules: rules, query: query, narrowing: false)
    }

    private init(db: Database?, reader: (any EventReading)?, rules: SigmaRuleSet, query: EventQuery, narrowing: Bool) {
        self.db = db
        self.reader = reader
        self.rules = rules
        self.narrowing = narrowing
        self.limit = query.limit
        var base = query
        base.limit = nil
        base.eventIDs = nil
        self.query = base
    }

    func hits(_ correlation: SigmaCorrelation, reference: String, depth: Int) throws -> [CorrelationHit] {
        guard depth < Self.maximumDepth else {
            throw StoreError.database(
                "correlation rules nest deeper than \(Self.maximumDepth) levels at '\(reference)'"
            )
        }
        var inputs: [CorrelationInput] = []
        var windows: [[String]: [(Int64, Int64)]]?
        // temporal_ordered: the matches of the previous rule that a chain can continue from.
        var previous: [CorrelationInput]?
        for (index, name) in correlation.rules.enumerated() {
            guard let target = self.rules.rule(name) else { continue }
            let fields = correlation.groupBy.map { correlation.field($0, in: name, also: target.name) }
            let valueField = correlation.valueField.map { correlation.field($0, in: name, also: target.name) }
            var found: [CorrelationInput]
            if let inner = target.correlation {
                found = try self.hits(inner, reference: name, depth: depth + 1).compactMap { hit in
                    let values = Dictionary(
                        hit.group.map { ($0.field, $0.value) },
                        uniquingKeysWith: { first, _ in first }
                    )
                    let key = fields.compactMap { values[$0] }
                    guard key.count == fields.count else { return nil }
                    return CorrelationInput(
                        start: hit.start,
                        end: hit.end,
                        key: key,
                        value: valueField.flatMap { values[$0] },
                        rule: index,
                        eventIDs: hit.eventIDs
                    )
                }
            } else if let detection = target.detection {
                let condition = SigmaSQLCompiler.compile(detection)
                if index > 0, correlation.kind == .temporalOrdered, let previous,
                    let next = try self.firstMatches(
                        condition,
                        fields: fields,
                        rule: index,
                        after: previous,
                        correlation
                    )
                {
                    found = next
                } else {
                    let restriction = index == 0 ? nil : windows.flatMap { self.restriction($0, fields: fields) }
                    found = try self.matches(
                        condition,
                        fields: fields,
                        valueField: valueField,
                        rule: index,
                        restriction
                    )
                }
            } else {
                continue
            }
            if correlation.needsEveryRule {
                if found.isEmpty { return [] }
                if index == 0 {
                    windows = Self.windows(found, correlation)
                }
            }
            inputs += found
            previous = found
        }
        return correlation.hits(inputs)
    }

    /// Where the later rules of a correlation that needs every rule can match, per group: from `timespan` before
    /// (after, for `temporal_ordered`) each match of the first rule to `timespan` after it, overlaps merged.
    static func windows(_ found: [CorrelationInput], _ correlation: SigmaCorrelation) -> [[String]: [(Int64, Int64)]] {
        let span = correlation.timespanNanos
        var windows: [[String]: [(Int64, Int64)]] = [:]
        for input in found {
            let from = correlation.kind == .temporalOrdered ? input.start : input.start.subtractingSaturating(span)
            windows[input.key, default: []].append((from, input.end.addingSaturating(span)))
        }
        for (key, list) in windows {
            var merged: [(Int64, Int64)] = []
            for window in list.sorted(by: { $0.0 < $1.0 }) {
                if let last = merged.last, window.0 <= last.1 {
                    merged[merged.count - 1].1 = max(last.1, window.1)
                } else {
                    merged.append(window)
                }
            }
            windows[key] = merged
        }
        return windows
    }

    /// `(col = ? AND … AND time BETWEEN ? AND ?) OR …` for the windows, or nil when a group-by field is not an
    /// indexed column or there are too many windows.
    func restriction(_ windows: [[String]: [(Int64, Int64)]], fields: [String]) -> SQLTerm? {
        guard let columns = self.indexedColumns(fields),
            windows.values.reduce(0, { $0 + $1.count }) <= Self.maximumWindows
        else { return nil }
        let time = SQLiteStore.timeColumn(self.query.clock)
        var terms: [String] = []
        var arguments: [DatabaseValue] = []
        for (key, list) in windows.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            for (from, to) in list {
                terms.append(
                    "(" + (columns.map { $0 + " = ?" } + ["\(time) BETWEEN ? AND ?"]).joined(separator: " AND ") + ")"
                )
                arguments += key.map(\.databaseValue) + [from.databaseValue, to.databaseValue]
            }
        }
        let sql = (["(" + terms.joined(separator: " OR ") + ")"] + Self.indexTerms(columns)).joined(separator: " AND ")
        return SQLTerm(sql: sql, arguments: arguments)
    }

    /// The SQL columns of the group-by `fields` when narrowing is on and every one has an index to narrow with
    /// (host, user, source IP), else nil.
    func indexedColumns(_ fields: [String]) -> [String]? {
        let columns = fields.compactMap(EventColumn.named).filter { [.host, .user, .sourceIP].contains($0) }.map(\.sql)
        return self.narrowing && self.db != nil && columns.count == fields.count ? columns : nil
    }

    /// Always-true terms SQLite needs to use the index of these columns: source IPs are indexed behind the event-id
    /// range (migration v5).
    static func indexTerms(_ columns: [String]) -> [String] {
        columns.contains("e.src_ip") ? [SQLiteStore.sourceIPRangeTerm] : []
    }

    /// `temporal_ordered` reads, for each match of the previous rule, only the first two matches of this rule in
    /// the same group at or after it and within `timespan` (two: the first may be the same event, which cannot play
    /// both parts). The chains the correlation builds take exactly those: each step is the earliest match after the
    /// previous step. One query; nil (read the rule otherwise) when a group-by field is not an indexed column or
    /// the previous matches are many.
    func firstMatches(
        _ condition: TranslatedCondition,
        fields: [String],
        rule: Int,
        after previous: [CorrelationInput],
        _ correlation: SigmaCorrelation
    ) throws -> [CorrelationInput]? {
        guard let columns = self.indexedColumns(fields), previous.count <= Self.maximumWindows else { return nil }
        if previous.isEmpty { return [] }
        let time = SQLiteStore.timeColumn(self.query.clock)
        var query = self.query
        query.rule = condition
        query.restriction = SQLTerm(
            sql: (columns.enumerated().map { "\($1) = a.k\($0)" } + ["\(time) >= a.t0 AND \(time) <= a.t1"]
                + Self.indexTerms(columns)).joined(separator: " AND "),
            arguments: []
        )
        guard let db = self.db else { return nil }
        let (clause, whereArguments) = try SQLiteStore.whereClause(db, query)
        let names = ["n"] + columns.indices.map { "k\($0)" } + ["t0", "t1"]
        let row = "(" + Array(repeating: "?", count: names.count).joined(separator: ",") + ")"
        var arguments: [DatabaseValue] = []
        arguments.reserveCapacity(previous.count * names.count + whereArguments.count)
        for (number, match) in previous.enumerated() {
            arguments.append(number.databaseValue)
            arguments += match.key.map(\.databaseValue)
            arguments += [
                match.end.databaseValue, match.start.addingSaturating(correlation.timespanNanos).databaseValue,
            ]
        }
        let sql =
            "WITH a(" + names.joined(separator: ",") + ") AS (VALUES "
            + Array(repeating: row, count: previous.count).joined(separator: ",") + ")\n"
            + "SELECT a.n, m.id, m.\(time.dropFirst(2)) FROM a CROSS JOIN events m WHERE m.id IN (SELECT e.id FROM events e"
            + clause + "\nORDER BY \(time), e.id LIMIT 2)"
        let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments + whereArguments))
        var found: [Int64: CorrelationInput] = [:]
        while let row = try rows.next() {
            let number: Int = row[0]
            guard previous.indices.contains(number) else { continue }
            let id: Int64 = row[1]
            let at: Int64 = row[2]
            found[id] = CorrelationInput(
                start: at,
                end: at,
                key: previous[number].key,
                value: nil,
                rule: rule,
                eventIDs: [id]
            )
        }
        return Array(found.values)
    }

    /// The events a detection matches, with their group-by values (events missing one are left out).
    func matches(
        _ condition: TranslatedCondition,
        fields: [String],
        valueField: String?,
        rule: Int,
        _ restriction: SQLTerm?
    ) throws -> [CorrelationInput] {
        var query = self.query
        query.rule = condition
        query.restriction = restriction
        guard let db = self.db else {
            return try self.matches(query, fields: fields, valueField: valueField, rule: rule)
        }
        var selectArguments: [DatabaseValue] = []
        let expressions = (fields + (valueField.map { [$0] } ?? [])).map { field -> String in
            if let column = EventColumn.named(field) { return column.sql }
            selectArguments.append(FieldCondition.jsonPath(field).databaseValue)
            return "json_extract(\(EventContentFunctions.fields()), ?)"
        }
        let (clause, whereArguments) = try SQLiteStore.whereClause(db, query)
        let sql =
            "SELECT e.id, " + SQLiteStore.timeColumn(query.clock)
            + expressions.map { ", CAST(" + $0 + " AS TEXT)" }.joined() + " FROM events e" + clause
        let rows = try Row.fetchCursor(
            db,
            sql: sql,
            arguments: StatementArguments(selectArguments + whereArguments)
        )
        var found: [CorrelationInput] = []
        while let row = try rows.next() {
            var key: [String] = []
            key.reserveCapacity(fields.count)
            for column in 0..<fields.count {
                guard let value: String = row[2 + column] else { break }
                key.append(value)
            }
            guard key.count == fields.count else { continue }
            let time: Int64 = row[1]
            found.append(
                CorrelationInput(
                    start: time,
                    end: time,
                    key: key,
                    value: valueField == nil ? nil : row[2 + fields.count],
                    rule: rule,
                    eventIDs: [row[0]]
                )
            )
        }
        return found
    }

    /// ``matches(_:fields:valueField:rule:_:)`` through the reader: a group-by or value field that names a column
    /// reads the column, any other the first value of that key in the parsed fields (what `json_extract` reads).
    private func matches(
        _ query: EventQuery,
        fields: [String],
        valueField: String?,
        rule: Int
    ) throws -> [CorrelationInput] {
        guard let reader = self.reader else { return [] }
        func value(_ field: String, _ values: EventRecordValues) -> String? {
            guard EventColumn.named(field) != nil else { return values.fields.first { $0.key == field }?.value }
            return values.values(of: field)?.first
        }
        var found: [CorrelationInput] = []
        _ = try reader.forEachEvent(query) { event in
            let values = EventRecordValues(event)
            let key = fields.compactMap { value($0, values) }
            guard key.count == fields.count else { return true }
            let time = event.time(on: query.clock)
            found.append(
                CorrelationInput(
                    start: time,
                    end: time,
                    key: key,
                    value: valueField.flatMap { value($0, values) },
                    rule: rule,
                    eventIDs: [event.id]
                )
            )
            return true
        }
        return found
    }
}

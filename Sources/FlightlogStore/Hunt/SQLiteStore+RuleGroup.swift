import FlightlogEvidence
import FlightlogSigma
import GRDB

extension SQLiteStore {
    /// The most rules one pass evaluates: each is one result column with its own parameters.
    static let rulesPerPass = 64

    /// The ids of the events each rule selects under `query`'s filters (its limit and rule ignored), found in passes
    /// shared by several rules; nil for a rule left to run alone (a group of one, or more than `maxMatches` events).
    ///
    /// Rules are grouped by a full-text search each one's candidates need: a rule's candidates, or one of the
    /// searches they AND together (SigmaHQ's process_creation rules all need the exec views' search, whatever else
    /// they add), the one most rules share. A group whose search finds few events reads those; rules with no
    /// candidates, or too many, share one scan. Each rule's condition is its own, evaluated on every row of the pass
    /// as its own query's `WHERE` would, so the sets equal what ``forEachEvent(_:_:)`` finds rule by rule (the
    /// differential test compares them).
    public func matchingEventIDs(
        _ rules: [TranslatedCondition],
        _ query: EventQuery,
        maxMatches: Int
    ) throws -> [[Int64]?] {
        var filters = query
        filters.rule = nil
        filters.limit = nil
        // Every search each rule's candidates need, and how many rules need it.
        let needs = rules.map { rule -> [CandidateSet] in
            guard let candidates = rule.candidates else { return [] }
            if case .all(let parts) = candidates { return [candidates] + parts }
            return [candidates]
        }
        var shared: [String: Int] = [:]
        for options in needs { for option in Set(options.map(\.description)) { shared[option, default: 0] += 1 } }
        return try self.readTranslatingErrors(query) { db -> [[Int64]?] in
            var groups: [String: (candidates: CandidateSet?, members: [Int])] = [:]
            for (index, options) in needs.enumerated() {
                let best = options.max { shared[$0.description, default: 0] < shared[$1.description, default: 0] }
                groups[best?.description ?? "", default: (best, [])].members.append(index)
            }
            var scanning: [Int] = []
            var found = [[Int64]?](repeating: nil, count: rules.count)
            for group in groups.values {
                guard let candidates = group.candidates else {
                    scanning += group.members
                    continue
                }
                guard let (sql, arguments) = try Self.candidates(db, candidates) else {
                    scanning += group.members
                    continue
                }
                guard group.members.count > 1 else { continue }
                let term = ("e.id IN (" + sql + ")", arguments)
                try Self.pass(db, rules, group.members, filters, term, maxMatches, &found)
            }
            if scanning.count > 1 { try Self.pass(db, rules, scanning, filters, nil, maxMatches, &found) }
            return found
        }
    }

    /// One pass of `members` (at most ``rulesPerPass`` a statement) over the events `filters` and `term` select.
    private static func pass(
        _ db: Database,
        _ rules: [TranslatedCondition],
        _ members: [Int],
        _ filters: EventQuery,
        _ term: (sql: String, arguments: [DatabaseValue])?,
        _ maxMatches: Int,
        _ found: inout [[Int64]?]
    ) throws {
        var (clause, filterArguments) = try Self.whereClause(db, filters)
        if let term { clause += clause.isEmpty ? "\nWHERE " + term.sql : "\n  AND " + term.sql }
        var start = 0
        while start < members.count {
            let chunk = Array(members[start..<min(start + Self.rulesPerPass, members.count)])
            start += chunk.count
            // A rule holds for a row exactly when its condition would pass a WHERE: true, not 0 and not NULL.
            var columns: [String] = []
            var arguments: [DatabaseValue] = []
            for member in chunk {
                columns.append("CASE WHEN (" + rules[member].sql + ") THEN 1 ELSE 0 END")
                arguments += rules[member].arguments.map(\.databaseValue)
            }
            arguments += filterArguments + (term?.arguments ?? [])
            let sql =
                "SELECT e.id, " + columns.joined(separator: ", ")
                + "\nFROM events e CROSS JOIN agents a ON a.id = e.agent_id CROSS JOIN batches b ON b.id = e.batch_id"
                + clause
            var ids = [[Int64]](repeating: [], count: chunk.count)
            var overflow = [Bool](repeating: false, count: chunk.count)
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
            while let row = try cursor.next() {
                let id: Int64 = try row.decode(Int64.self, atIndex: 0)
                for column in chunk.indices where !overflow[column] {
                    guard try row.decode(Int64.self, atIndex: column + 1) == 1 else { continue }
                    ids[column].append(id)
                    // Too many to hand back by id: the rule runs alone.
                    if ids[column].count > maxMatches {
                        overflow[column] = true
                        ids[column] = []
                    }
                }
            }
            for (column, member) in chunk.enumerated() where !overflow[column] { found[member] = ids[column] }
        }
    }
}

extension TranslatedCondition {
    /// True of every event, with no full-text side: a query of events already known by id
    /// (``SQLiteStore/matchingEventIDs(_:_:maxMatches:)``) that still reads the store in table order, as a rule's does.
    public static let everyEvent = TranslatedCondition(sql: "1", arguments: [], expression: .always)
}

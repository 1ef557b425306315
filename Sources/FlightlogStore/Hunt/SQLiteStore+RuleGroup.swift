import FlightlogEvidence
import GRDB

extension SQLiteStore {
    /// The most rules one pass evaluates: each is one result column with its own parameters.
    static let rulesPerPass = 64

    /// For rules whose full-text candidates are the same searches (``TranslatedCondition/sharedCandidates(_:)``), the
    /// ids of the events each selects under `query`'s filters (its limit and rule ignored), found in one pass over
    /// the candidates; nil when the store would scan instead (no candidates, too many, no current index), and the
    /// rules must then run one by one.
    ///
    /// Each rule's condition is its own, evaluated on every candidate row as its own query's `WHERE` would, so the
    /// sets equal what ``forEachEvent(_:_:)`` finds rule by rule (the differential test compares them). A hunt of
    /// SigmaHQ's 122 process_creation rules reads their shared candidates once instead of 122 times.
    public func matchingEventIDs(_ rules: [TranslatedCondition], _ query: EventQuery) throws -> [[Int64]]? {
        guard let candidates = TranslatedCondition.sharedCandidates(rules) else { return nil }
        var filters = query
        filters.rule = nil
        filters.limit = nil
        return try self.readTranslatingErrors(query) { db -> [[Int64]]? in
            guard let (candidateSQL, candidateArguments) = try Self.candidates(db, candidates) else { return nil }
            var found = [[Int64]](repeating: [], count: rules.count)
            var start = 0
            while start < rules.count {
                let end = min(start + Self.rulesPerPass, rules.count)
                var (clause, filterArguments) = try Self.whereClause(db, filters)
                let term = "e.id IN (" + candidateSQL + ")"
                clause += clause.isEmpty ? "\nWHERE " + term : "\n  AND " + term
                // A rule holds for a row exactly when its condition would pass a WHERE: true, not 0 and not NULL.
                var columns: [String] = []
                var arguments: [DatabaseValue] = []
                for rule in rules[start..<end] {
                    columns.append("CASE WHEN (" + rule.sql + ") THEN 1 ELSE 0 END")
                    arguments += rule.arguments.map(\.databaseValue)
                }
                arguments += filterArguments + candidateArguments
                let sql =
                    "SELECT e.id, " + columns.joined(separator: ", ")
                    + "\nFROM events e CROSS JOIN agents a ON a.id = e.agent_id CROSS JOIN batches b ON b.id = e.batch_id"
                    + clause
                let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
                while let row = try cursor.next() {
                    let id: Int64 = try row.decode(Int64.self, atIndex: 0)
                    for column in 0..<(end - start) where try row.decode(Int64.self, atIndex: column + 1) == 1 {
                        found[start + column].append(id)
                    }
                }
                start = end
            }
            return found
        }
    }
}

extension TranslatedCondition {
    /// The full-text searches every one of `rules` finds its candidates with, when they are the same; else nil.
    static func sharedCandidates(_ rules: [TranslatedCondition]) -> CandidateSet? {
        guard let first = rules.first?.candidates, rules.allSatisfy({ $0.candidates == first }) else { return nil }
        return first
    }

    /// A key that is equal for conditions with the same full-text candidates (nil: none, they scan).
    public var candidatesKey: String? { self.candidates?.description }

    /// True of every event, with no full-text side: a query of events already known by id
    /// (``SQLiteStore/matchingEventIDs(_:_:)``) that still reads the store in table order, as a rule's does.
    public static let everyEvent = TranslatedCondition(sql: "1", arguments: [])
}

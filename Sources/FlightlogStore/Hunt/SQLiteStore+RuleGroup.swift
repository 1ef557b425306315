import Dispatch
import FlightlogEvidence
import FlightlogSigma
import Foundation
import GRDB
import Synchronization

extension SQLiteStore {
    /// The most rules one pass evaluates: each is one result column with its own parameters.
    static let rulesPerPass = 64

    /// The ids of the events each rule selects under `query`'s filters (its limit and rule ignored), found in passes
    /// shared by the rules that need the same search; nil for a rule left to run alone (more than `maxMatches`
    /// events).
    ///
    /// Rules are grouped by a full-text search each one's candidates need: a rule's candidates, or one of the
    /// searches they AND together (SigmaHQ's process_creation rules all need the exec views' search, whatever else
    /// they add), the one most rules share. A group whose search finds few events reads those; rules with no
    /// candidates, or too many, share one scan. Each rule's condition is its own, evaluated on every row of the pass
    /// as its own query's `WHERE` would, so the sets equal what ``forEachEvent(_:_:)`` finds rule by rule (the
    /// differential test compares them). Every pass, a group of one rule included, runs in id ranges on all
    /// processors (``idRanges(_:count:)``).
    public func matchingEventIDs(
        _ rules: [TranslatedCondition],
        _ query: EventQuery,
        maxMatches: Int
    ) throws -> [[Int64]?] {
        let filters = {
            var filters = query
            filters.rule = nil
            filters.limit = nil
            return filters
        }()
        // Every search each rule's candidates need, and how many rules need it.
        let needs = rules.map { rule -> [CandidateSet] in
            guard let candidates = rule.candidates else { return [] }
            if case .all(let parts) = candidates { return [candidates] + parts }
            return [candidates]
        }
        var shared: [String: Int] = [:]
        for options in needs { for option in Set(options.map(\.description)) { shared[option, default: 0] += 1 } }
        // The passes, planned in one read: each group's candidates (or a scan), and the range of event ids.
        let (passes, ids) = try self.readTranslatingErrors(query) { db -> ([Pass], ClosedRange<Int64>?) in
            var groups: [String: (candidates: CandidateSet?, members: [Int])] = [:]
            for (index, options) in needs.enumerated() {
                let best = options.max { shared[$0.description, default: 0] < shared[$1.description, default: 0] }
                groups[best?.description ?? "", default: (best, [])].members.append(index)
            }
            var scanning: [Int] = []
            var passes: [Pass] = []
            for key in groups.keys.sorted() {
                guard let group = groups[key], let candidates = group.candidates,
                    let (sql, arguments) = try Self.candidates(db, candidates)
                else {
                    scanning += groups[key]?.members ?? []
                    continue
                }
                passes.append(Pass(members: group.members, term: ("e.id IN (" + sql + ")", arguments)))
            }
            if !scanning.isEmpty { passes.append(Pass(members: scanning.sorted(), term: nil)) }
            let bounds = try Row.fetchOne(db, sql: "SELECT MIN(id), MAX(id) FROM events")
            guard let low = bounds?[0] as Int64?, let high = bounds?[1] as Int64? else { return (passes, nil) }
            return (passes, low...high)
        }
        var found = [[Int64]?](repeating: nil, count: rules.count)
        guard let ids, !passes.isEmpty else { return found }
        // Each pass in id ranges, as many as there are processors (at most 4), each range on a connection of its
        // own: the rules' conditions are CPU work on every row, and the ranges' results, joined in id order, are
        // what one pass over all of them finds.
        let shards = Self.idRanges(ids, count: min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)))
        let work = passes.indices.flatMap { pass in shards.indices.map { (pass, $0) } }
        let results = Mutex<(next: Int, done: [[ShardResult]?], error: (any Error)?)>(
            (0, [[ShardResult]?](repeating: nil, count: work.count), nil)
        )
        DispatchQueue.concurrentPerform(iterations: min(shards.count, work.count)) { _ in
            while true {
                let item = results.withLock { state -> Int? in
                    guard state.error == nil, state.next < work.count else { return nil }
                    state.next += 1
                    return state.next - 1
                }
                guard let item else { return }
                let (pass, shard) = work[item]
                do {
                    let result = try self.readTranslatingErrors(query) { db in
                        try Self.pass(db, rules, passes[pass], filters, shards[shard], maxMatches)
                    }
                    results.withLock { $0.done[item] = result }
                } catch {
                    results.withLock { $0.error = $0.error ?? error }
                    return
                }
            }
        }
        let (done, failure) = results.withLock { ($0.done, $0.error) }
        if let failure { throw failure }
        for (pass, members) in passes.enumerated() {
            for (column, member) in members.members.enumerated() {
                var ids: [Int64] = []
                var overflow = false
                for shard in shards.indices {
                    guard let result = done[pass * shards.count + shard]?[column], !result.overflow else {
                        overflow = true
                        break
                    }
                    ids += result.ids
                    // Too many to hand back by id: the rule runs alone.
                    if ids.count > maxMatches {
                        overflow = true
                        break
                    }
                }
                if !overflow { found[member] = ids }
            }
        }
        return found
    }

    /// Rules that share a pass, and the term (a full-text candidates' `id IN`) that narrows it; nil: a scan.
    struct Pass: Sendable {
        var members: [Int]
        var term: (sql: String, arguments: [DatabaseValue])?
    }

    /// What one rule of a pass found in one id range: the ids, in order, or that there were more than its cap.
    struct ShardResult: Sendable {
        var ids: [Int64] = []
        var overflow = false
    }

    /// `ids` cut into `count` ranges of about equal length (fewer when it holds fewer ids).
    static func idRanges(_ ids: ClosedRange<Int64>, count: Int) -> [ClosedRange<Int64>] {
        let length = ids.upperBound - ids.lowerBound + 1
        let parts = Int64(max(1, min(Int64(count), length)))
        return (0..<parts).map { part in
            let low = ids.lowerBound + length * part / parts
            let high = ids.lowerBound + length * (part + 1) / parts - 1
            return low...high
        }
    }

    /// One pass of `pass`'s rules (at most ``rulesPerPass`` a statement) over the events in `range` that `filters`
    /// and the pass's term select; per rule, in the order of `pass.members`, what it found.
    private static func pass(
        _ db: Database,
        _ rules: [TranslatedCondition],
        _ pass: Pass,
        _ filters: EventQuery,
        _ range: ClosedRange<Int64>,
        _ maxMatches: Int
    ) throws -> [ShardResult] {
        var (clause, filterArguments) = try Self.whereClause(db, filters)
        var terms = [("e.id BETWEEN ? AND ?", [range.lowerBound.databaseValue, range.upperBound.databaseValue])]
        if let term = pass.term { terms.append(term) }
        for term in terms { clause += clause.isEmpty ? "\nWHERE " + term.0 : "\n  AND " + term.0 }
        var results: [ShardResult] = []
        var start = 0
        while start < pass.members.count {
            let chunk = Array(pass.members[start..<min(start + Self.rulesPerPass, pass.members.count)])
            start += chunk.count
            // A rule holds for a row exactly when its condition would pass a WHERE: true, not 0 and not NULL.
            var columns: [String] = []
            var arguments: [DatabaseValue] = []
            for member in chunk {
                columns.append("CASE WHEN (" + rules[member].sql + ") THEN 1 ELSE 0 END")
                arguments += rules[member].arguments.map(\.databaseValue)
            }
            arguments += filterArguments + terms.flatMap(\.1)
            let sql =
                "SELECT e.id, " + columns.joined(separator: ", ")
                + "\nFROM events e CROSS JOIN agents a ON a.id = e.agent_id CROSS JOIN batches b ON b.id = e.batch_id"
                + clause
            var found = [ShardResult](repeating: ShardResult(), count: chunk.count)
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
            while let row = try cursor.next() {
                let id: Int64 = try row.decode(Int64.self, atIndex: 0)
                for column in chunk.indices where !found[column].overflow {
                    guard try row.decode(Int64.self, atIndex: column + 1) == 1 else { continue }
                    found[column].ids.append(id)
                    if found[column].ids.count > maxMatches {
                        found[column] = ShardResult(overflow: true)
                    }
                }
            }
            results += found
        }
        return results
    }
}

extension TranslatedCondition {
    /// True of every event, with no full-text side: a query of events already known by id
    /// (``SQLiteStore/matchingEventIDs(_:_:maxMatches:)``) that still reads the store in table order, as a rule's does.
    public static let everyEvent = TranslatedCondition(sql: "1", arguments: [], expression: .always)
}

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
        // The groups, and the range of event ids, in one read.
        let (groups, ids) = try self.readTranslatingErrors(query) { db -> ([Group], ClosedRange<Int64>?) in
            var groups: [String: Group] = [:]
            for (index, options) in needs.enumerated() {
                let best = options.max { shared[$0.description, default: 0] < shared[$1.description, default: 0] }
                groups[best?.description ?? "", default: Group(candidates: best)].members.append(index)
            }
            let bounds = try Row.fetchOne(db, sql: "SELECT MIN(id), MAX(id) FROM events")
            let ordered = groups.keys.sorted().compactMap { groups[$0] }
            guard let low = bounds?[0] as Int64?, let high = bounds?[1] as Int64? else { return (ordered, nil) }
            return (ordered, low...high)
        }
        var found = [[Int64]?](repeating: nil, count: rules.count)
        guard let ids else { return found }
        let workers = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
        // Each group's full-text candidates, fetched once, groups on all processors; a group with none (or too
        // many) joins the scan.
        let fetched = try Self.concurrently(groups.count, workers: workers) { group in
            guard let candidates = groups[group].candidates else { return nil as (ids: [Int64], watermark: Int64)? }
            return try self.readTranslatingErrors(query) { db in try Self.candidateIDs(db, candidates) }
        }
        let scanning = zip(groups, fetched).filter { $0.1 == nil }.flatMap(\.0.members).sorted()
        let passes =
            zip(groups, fetched).compactMap { group, candidates in
                candidates.map { Pass(members: group.members, candidates: $0) }
            } + (scanning.isEmpty ? [] : [Pass(members: scanning, candidates: nil)])
        // Each pass in id ranges, as many as there are processors (at most 4), each range on a connection of its
        // own: the rules' conditions are CPU work on every row, and the ranges' results, joined in id order, are
        // what one pass over all of them finds.
        let shards = Self.idRanges(ids, count: workers)
        let done = try Self.concurrently(passes.count * shards.count, workers: workers) { item in
            let (pass, shard) = item.quotientAndRemainder(dividingBy: shards.count)
            return try self.readTranslatingErrors(query) { db in
                try Self.pass(db, rules, passes[pass], filters, shards[shard], maxMatches)
            }
        }
        for (pass, members) in passes.enumerated() {
            for (column, member) in members.members.enumerated() {
                var ids: [Int64] = []
                var overflow = false
                for shard in shards.indices {
                    let result = done[pass * shards.count + shard][column]
                    ids += result.ids
                    // Too many to hand back by id: the rule runs alone.
                    if result.overflow || ids.count > maxMatches {
                        overflow = true
                        break
                    }
                }
                if !overflow { found[member] = ids }
            }
        }
        return found
    }

    /// Rules whose candidates share a full-text search (nil: none).
    struct Group {
        var candidates: CandidateSet?
        var members: [Int] = []
    }

    /// `body(0)` … `body(count - 1)` on up to `workers` threads at once, their results in order; the first error
    /// stops the others from starting more and is thrown.
    static func concurrently<T: Sendable>(
        _ count: Int,
        workers: Int,
        _ body: @Sendable (Int) throws -> T
    ) throws -> [T] {
        let state = Mutex<(next: Int, results: [T?], error: (any Error)?)>(
            (0, [T?](repeating: nil, count: count), nil)
        )
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, count))) { _ in
            while true {
                let item = state.withLock { state -> Int? in
                    guard state.error == nil, state.next < count else { return nil }
                    state.next += 1
                    return state.next - 1
                }
                guard let item else { return }
                do {
                    let result = try body(item)
                    state.withLock { $0.results[item] = result }
                } catch {
                    state.withLock { $0.error = $0.error ?? error }
                    return
                }
            }
        }
        let (results, failure) = state.withLock { ($0.results, $0.error) }
        if let failure { throw failure }
        return results.compactMap { $0 }
    }

    /// Rules that share a pass, and the full-text candidates that narrow it (their ids, ascending, and the
    /// index's watermark past which every event is one); nil: a scan.
    struct Pass: Sendable {
        var members: [Int]
        var candidates: (ids: [Int64], watermark: Int64)?
    }

    /// What one rule of a pass found in one id range: the ids, in order, or that there were more than its cap.
    struct ShardResult: Sendable {
        var ids: [Int64] = []
        var overflow = false
    }

    /// The position of the first of `ids` (ascending) that is at least `value`; `ids.count` if none is.
    static func firstIndex(in ids: [Int64], atLeast value: Int64) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
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
        if let candidates = pass.candidates {
            // The candidates in this range, as a JSON array for `json_each`, and the events past the watermark.
            let ids = candidates.ids
            let first = Self.firstIndex(in: ids, atLeast: range.lowerBound)
            let end = Self.firstIndex(in: ids, atLeast: range.upperBound &+ 1)
            if first == end, candidates.watermark >= range.upperBound {
                return [ShardResult](repeating: ShardResult(), count: pass.members.count)
            }
            let list = "[" + ids[first..<end].map(String.init).joined(separator: ",") + "]"
            terms.append(
                (
                    "e.id IN (SELECT value FROM json_each(?) UNION ALL SELECT id FROM events WHERE id > ?)",
                    [list.databaseValue, candidates.watermark.databaseValue]
                )
            )
        }
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

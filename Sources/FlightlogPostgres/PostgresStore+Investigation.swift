import FlightlogEvidence
import FlightlogSigma
public import FlightlogStore
import FlightlogWire
import Foundation
import Logging
import PostgresNIO

/// The investigator's reads beyond plain event lists (`timeline`, `stats`, `hunt`), with the answers of the SQLite
/// store: the same markers and notes are built by the same code (``TimelineMarker``, ``StatsReport``) from what
/// PostgreSQL finds.
extension PostgresStore {
    /// The agents involved in `query`, their gap and other findings inside its window, and their silences longer
    /// than `silenceNanos`, as the SQLite store's `timelineContext` gives them.
    public func timelineContext(_ query: EventQuery, silenceNanos: Int64?) async throws(StoreError) -> TimelineContext {
        var unlimited = query
        unlimited.limit = nil
        var names: Set<String> = []
        if try EventRecordFilter(unlimited).passesEverything {
            let (from, binds) = try await self.fromClause(unlimited)
            let found = try await self.connection { connection in
                try await connection.all(
                    PostgresQuery(unsafeSQL: "SELECT DISTINCT a.name" + from, binds: binds),
                    String.self,
                    logger: self.logger
                )
            }
            names = Set(found)
        } else {
            _ = try await self.forEachEvent(unlimited) { event in
                names.insert(event.agent)
                return true
            }
        }
        let since = query.sinceNanos ?? Int64.min
        let until = query.untilNanos ?? Int64.max
        let selected = Array(names)
        return try await self.connection { connection in
            let clause: PostgresQuery = "WHERE name = ANY(\(selected))"
            let agents = try await Self.agents(connection, where: clause, logger: self.logger)
            var markers: [TimelineMarker] = []
            for agent in agents {
                for finding in try await self.findings(agentID: agent.id) {
                    var before: Int64?
                    var after: Int64?
                    if finding.kind == .gap, let epoch = finding.epoch, let from = finding.fromSequence,
                        let to = finding.toSequence
                    {
                        let chain = (agent.id, Int64(bitPattern: epoch))
                        before = try await connection.all(
                            """
                            SELECT last_ns FROM batches WHERE agent_id = \(chain.0) AND epoch = \(chain.1)
                            AND seq = \(Int64(bitPattern: from &- 1))
                            """,
                            Int64.self,
                            logger: self.logger
                        ).first
                        after = try await connection.all(
                            """
                            SELECT first_ns FROM batches WHERE agent_id = \(chain.0) AND epoch = \(chain.1)
                            AND seq = \(Int64(bitPattern: to &+ 1))
                            """,
                            Int64.self,
                            logger: self.logger
                        ).first
                    }
                    let marker = TimelineMarker.forFinding(
                        finding,
                        agent: agent.name,
                        before: before,
                        after: after,
                        since: since,
                        until: until
                    )
                    if let marker { markers.append(marker) }
                }
                guard let silenceNanos else { continue }
                let rows = try await connection.query(
                    """
                    SELECT first_ns, last_ns FROM batches WHERE agent_id = \(agent.id)
                    AND (\(query.sinceNanos)::BIGINT IS NULL OR last_ns >= \(query.sinceNanos))
                    AND (\(query.untilNanos)::BIGINT IS NULL OR first_ns < \(query.untilNanos))
                    ORDER BY first_ns
                    """,
                    logger: self.logger
                )
                var ranges: [(first: Int64, last: Int64)] = []
                for try await (first, last) in rows.decode((Int64, Int64).self) { ranges.append((first, last)) }
                markers += TimelineMarker.silences(
                    agent: agent.name,
                    ranges: ranges,
                    since: query.sinceNanos,
                    until: query.untilNanos,
                    threshold: silenceNanos
                )
            }
            return TimelineContext(sorting: agents, markers: markers)
        }
    }

    /// Counts of the events `query` selects per `key` and bucket, with spikes, first-seen users and IPs, and hours
    /// outside `workHours`, as the SQLite store's `stats` gives them. Grouped in SQL when the query's columns select
    /// alone; counted here from the rows when `--match`, `--where` or a rule decide.
    public func stats(
        _ query: EventQuery,
        by key: StatsKey,
        bucketNanos: Int64,
        workHours: WorkHours,
        spikeFactor: Double = 3,
        minimumSpike: Int = 5
    ) async throws(StoreError) -> StatsReport {
        guard bucketNanos > 0 else { throw StoreError.database("the bucket must be longer than 0") }
        var unlimited = query
        unlimited.limit = nil
        var counts = Tally()
        if try EventRecordFilter(unlimited).passesEverything {
            try await self.groupedCounts(unlimited, key: key, bucketNanos: bucketNanos, into: &counts)
        } else {
            _ = try await self.forEachEvent(unlimited) { event in
                counts.add(event, key: key, clock: query.clock, bucketNanos: bucketNanos)
                return true
            }
        }
        var firstSeen: [StatsReport.Note] = []
        if let since = query.sinceNanos {
            for (kind, pairs) in [
                (StatsReport.Note.Kind.newUserOnHost, counts.userOnHost), (.newIPForUser, counts.ipForUser),
            ] {
                let (first, second) = kind == .newUserOnHost ? ("host", "\"user\"") : ("\"user\"", "src_ip")
                for (pair, time) in pairs {
                    var binds = PostgresBindings()
                    binds.append(pair[1])
                    binds.append(pair[0])
                    binds.append(since)
                    let check = PostgresQuery(
                        unsafeSQL: "SELECT EXISTS (SELECT 1 FROM events e WHERE e.\(second) = $1 AND e.\(first) = $2 "
                            + "AND e.time_ns < $3)",
                        binds: binds
                    )
                    let seen = try await self.connection { connection in
                        try await connection.all(check, Bool.self, logger: self.logger).first ?? false
                    }
                    guard !seen else { continue }
                    firstSeen.append(StatsReport.firstSeen(kind, first: pair[0], second: pair[1], at: time))
                }
            }
        }
        return StatsReport(
            key: key,
            buckets: counts.sortedBuckets(),
            hours: counts.sortedHours(),
            firstSeen: firstSeen,
            workHours: workHours,
            spikeFactor: spikeFactor,
            minimumSpike: minimumSpike
        )
    }

    /// ``stats(_:by:bucketNanos:workHours:spikeFactor:minimumSpike:)``'s counts, grouped by PostgreSQL.
    private func groupedCounts(
        _ query: EventQuery,
        key: StatsKey,
        bucketNanos: Int64,
        into counts: inout Tally
    ) async throws(StoreError) {
        let (from, binds) = try await self.fromClause(query)
        let time = Self.clockColumn(query.clock)
        let column = Self.statsColumn(key)
        var grouped = binds
        grouped.append(bucketNanos)
        let bucket = "$\(grouped.count)"
        let statements: [(String, PostgresBindings)] = [
            (
                "SELECT COALESCE(\(column), '(none)'), \(time) - (\(time) % \(bucket)), count(*)" + from
                    + " GROUP BY 1, 2", grouped
            ),
            (
                "SELECT COALESCE(\(column), '(none)'), \(time) - (\(time) % 3600000000000), count(*)" + from
                    + " GROUP BY 1, 2", binds
            ),
        ]
        for (index, (sql, binds)) in statements.enumerated() {
            let rows = try await self.connection { connection in
                var out: [(String, Int64, Int)] = []
                let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
                for try await row in rows.decode((String, Int64, Int).self) { out.append(row) }
                return out
            }
            for (name, start, count) in rows {
                if index == 0 {
                    counts.buckets[name, default: [:]][start, default: 0] += count
                } else {
                    counts.hourly[name, default: [:]][start, default: 0] += count
                }
            }
        }
        let pairs: [(WritableKeyPath<Tally, [[String]: Int64]>, String, String)] = [
            (\.userOnHost, "e.host", "e.\"user\""), (\.ipForUser, "e.\"user\"", "e.src_ip"),
        ]
        for (pairsPath, first, second) in pairs {
            let sql =
                "SELECT \(first), \(second), min(\(time))" + from
                + " AND \(first) IS NOT NULL AND \(second) IS NOT NULL GROUP BY 1, 2"
            let rows = try await self.connection { connection in
                var out: [(String, String, Int64)] = []
                let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
                for try await row in rows.decode((String, String, Int64).self) { out.append(row) }
                return out
            }
            for (a, b, seen) in rows { counts[keyPath: pairsPath][[a, b]] = seen }
        }
    }

    static func statsColumn(_ key: StatsKey) -> String {
        switch key {
        case .host: "e.host"
        case .user: "e.\"user\""
        case .program: "e.program"
        case .ip: "e.src_ip"
        }
    }

    /// The field keys, programs, sources and audit views some stored event has.
    public func catalogue() async throws(StoreError) -> StoreCatalogue {
        try await self.connection { connection in
            var catalogue = StoreCatalogue()
            let rows = try await connection.query("SELECT kind, name FROM catalogue", logger: self.logger)
            for try await (kind, name) in rows.decode((String, String).self) {
                catalogue.insert(kind: kind, name: name)
            }
            return catalogue
        }
    }

    /// The ids of the events each rule selects under `query`'s filters (its limit and rule ignored), in one pass over
    /// the rows those filters select, every rule evaluated on each (``SigmaEvaluator``); nil for a rule with more
    /// than `maxMatches`, which then runs alone.
    public func matchingEventIDs(
        _ rules: [TranslatedCondition],
        _ query: EventQuery,
        maxMatches: Int
    ) async throws(StoreError) -> [[Int64]?] {
        var filters = query
        filters.rule = nil
        filters.limit = nil
        var found: [[Int64]?] = Array(repeating: [], count: rules.count)
        _ = try await self.forEachEvent(filters) { event in
            let values = EventRecordValues(event)
            for (index, rule) in rules.enumerated() where found[index] != nil {
                guard SigmaEvaluator.matches(rule.expression, values) else { continue }
                found[index]?.append(event.id)
                if (found[index]?.count ?? 0) > maxMatches { found[index] = nil }
            }
            return true
        }
        return found
    }
}

/// What `stats` counts, per key.
struct Tally {
    var buckets: [String: [Int64: Int]] = [:]
    var hourly: [String: [Int64: Int]] = [:]
    /// (host, user) and (user, IP) pairs, with the first time each was seen in the selection.
    var userOnHost: [[String]: Int64] = [:]
    var ipForUser: [[String]: Int64] = [:]

    mutating func add(_ event: EventRecord, key: StatsKey, clock: EventClock, bucketNanos: Int64) {
        let name: String
        switch key {
        case .host: name = event.host
        case .user: name = event.user ?? "(none)"
        case .program: name = event.program ?? "(none)"
        case .ip: name = event.sourceIP ?? "(none)"
        }
        let time = event.time(on: clock)
        self.buckets[name, default: [:]][time - time % bucketNanos, default: 0] += 1
        self.hourly[name, default: [:]][time - time % 3_600_000_000_000, default: 0] += 1
        if let user = event.user {
            self.userOnHost[[event.host, user]] = min(self.userOnHost[[event.host, user]] ?? time, time)
            if let ip = event.sourceIP {
                self.ipForUser[[user, ip]] = min(self.ipForUser[[user, ip]] ?? time, time)
            }
        }
    }

    /// Byte order, as SQLite's `BINARY` collation orders the keys.
    static func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// Per key (in byte order), then time.
    func sortedBuckets() -> [StatsReport.Bucket] {
        self.buckets.keys.sorted(by: Self.before).flatMap { key in
            (self.buckets[key] ?? [:]).sorted { $0.key < $1.key }.map {
                StatsReport.Bucket(key: key, startNanos: $0.key, count: $0.value, spike: false)
            }
        }
    }

    /// Per hour, then key.
    func sortedHours() -> [(key: String, hour: Int64, count: Int)] {
        self.hourly.flatMap { key, hours in hours.map { (key: key, hour: $0.key, count: $0.value) } }
            .sorted { $0.hour != $1.hour ? $0.hour < $1.hour : Self.before($0.key, $1.key) }
    }
}

import GRDB

extension SQLiteStore {
    /// Counts of the events `query` selects per `key` and bucket of `bucketNanos`, with spikes (> `spikeFactor` ×
    /// the key's median bucket, and at least `minimumSpike` events), first-seen users on a host and source IPs for a
    /// user (only with `query.sinceNanos`: "new" means not seen before it), and hours outside `workHours`.
    public func stats(
        _ query: EventQuery,
        by key: StatsKey,
        bucketNanos: Int64,
        workHours: WorkHours,
        spikeFactor: Double = 3,
        minimumSpike: Int = 5
    ) throws -> StatsReport {
        try self.readTranslatingErrors(query) { db in
            var unlimited = query
            unlimited.limit = nil
            let (clause, arguments) = try Self.whereClause(db, unlimited)
            let time = Self.timeColumn(query.clock)
            var buckets: [StatsReport.Bucket] = []
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT COALESCE(\(key.column), '(none)'), \(time) - (\(time) % ?), COUNT(*) FROM events e"
                    + clause
                    + " GROUP BY 1, 2 ORDER BY 1, 2",
                arguments: StatementArguments([bucketNanos.databaseValue] + arguments)
            )
            while let row = try rows.next() {
                buckets.append(StatsReport.Bucket(key: row[0], startNanos: row[1], count: row[2], spike: false))
            }
            // Activity hour by hour, for the hours outside working hours.
            var hours: [(key: String, hour: Int64, count: Int)] = []
            let hourly = try Row.fetchCursor(
                db,
                sql:
                    "SELECT COALESCE(\(key.column), '(none)'), \(time) - (\(time) % 3600000000000), COUNT(*) FROM events e"
                    + clause
                    + " GROUP BY 1, 2 ORDER BY 2, 1",
                arguments: StatementArguments(arguments)
            )
            while let row = try hourly.next() { hours.append((row[0], row[1], row[2])) }
            var firstSeen: [StatsReport.Note] = []
            if let since = query.sinceNanos {
                firstSeen = try Self.firstSeen(db, clause: clause, arguments: arguments, since: since, time: time)
            }
            return StatsReport(
                key: key,
                buckets: buckets,
                hours: hours,
                firstSeen: firstSeen,
                workHours: workHours,
                spikeFactor: spikeFactor,
                minimumSpike: minimumSpike
            )
        }
    }

    private static func firstSeen(
        _ db: Database,
        clause: String,
        arguments: [DatabaseValue],
        since: Int64,
        time: String
    ) throws -> [StatsReport.Note] {
        var notes: [StatsReport.Note] = []
        // The look-up goes through the index on the second column and time: for source IPs, one led by the id
        // range, which the extra (always true) term lets SQLite use.
        let pairs: [(String, String, String, StatsReport.Note.Kind)] = [
            ("e.host", "e.user", "", .newUserOnHost),
            ("e.user", "e.src_ip", " AND " + Self.sourceIPRangeTerm, .newIPForUser),
        ]
        for (first, second, indexTerm, kind) in pairs {
            let filter = clause.isEmpty ? " WHERE " : clause + " AND "
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT \(first), \(second), MIN(\(time)) FROM events e" + filter
                    + "\(first) IS NOT NULL AND \(second) IS NOT NULL GROUP BY 1, 2",
                arguments: StatementArguments(arguments)
            )
            for row in rows {
                let a = try row.decode(String.self, atIndex: 0)
                let b = try row.decode(String.self, atIndex: 1)
                let seen =
                    try Bool.fetchOne(
                        db,
                        sql:
                            "SELECT EXISTS (SELECT 1 FROM events e WHERE \(second) = ? AND \(first) = ? AND e.time_ns < ?"
                            + indexTerm + ")",
                        arguments: [b, a, since]
                    ) ?? false
                guard !seen else { continue }
                notes.append(
                    StatsReport.firstSeen(kind, first: a, second: b, at: try row.decode(Int64.self, atIndex: 2))
                )
            }
        }
        return notes
    }
}

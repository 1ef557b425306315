import FlightlogEvidence
import FlightlogWire
import GRDB

extension SQLiteStore {
    /// The agents involved in `query`, their gap and other findings inside its window, and their silences longer
    /// than `silenceNanos` (computed from the time ranges of their stored batches, on the event clock).
    public func timelineContext(_ query: EventQuery, silenceNanos: Int64?) throws -> TimelineContext {
        try self.readTranslatingErrors(query) { db in
            var unlimited = query
            unlimited.limit = nil
            let (clause, arguments) = try Self.whereClause(db, unlimited)
            let agentIDs = try Int64.fetchAll(
                db,
                sql: "SELECT DISTINCT e.agent_id FROM events e" + clause,
                arguments: StatementArguments(arguments)
            )
            var agents: [AgentRecord] = []
            for id in agentIDs {
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [id]),
                    let agent = try AgentRecord(row: row)
                {
                    agents.append(agent)
                }
            }
            let since = query.sinceNanos ?? Int64.min
            let until = query.untilNanos ?? Int64.max
            var markers: [TimelineMarker] = []
            for agent in agents {
                markers += try Self.findingMarkers(db, agent: agent, since: since, until: until)
                if let silenceNanos {
                    markers += try Self.silenceMarkers(
                        db,
                        agent: agent,
                        since: query.sinceNanos,
                        until: query.untilNanos,
                        threshold: silenceNanos
                    )
                }
            }
            return TimelineContext(sorting: agents, markers: markers)
        }
    }

    private static func findingMarkers(
        _ db: Database,
        agent: AgentRecord,
        since: Int64,
        until: Int64
    ) throws -> [TimelineMarker] {
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT * FROM findings WHERE agent_id = ? ORDER BY id",
            arguments: [agent.id]
        )
        var markers: [TimelineMarker] = []
        for row in rows {
            guard let finding = try ChainFinding(row: row) else { continue }
            var before: Int64?
            var after: Int64?
            if finding.kind == .gap, let epoch = finding.epoch, let from = finding.fromSequence,
                let to = finding.toSequence
            {
                before = try Int64.fetchOne(
                    db,
                    sql: "SELECT last_ns FROM batches WHERE agent_id = ? AND epoch = ? AND seq = ?",
                    arguments: [agent.id, epoch.sqlValue, (from &- 1).sqlValue]
                )
                after = try Int64.fetchOne(
                    db,
                    sql: "SELECT first_ns FROM batches WHERE agent_id = ? AND epoch = ? AND seq = ?",
                    arguments: [agent.id, epoch.sqlValue, (to &+ 1).sqlValue]
                )
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
        return markers
    }

    private static func silenceMarkers(
        _ db: Database,
        agent: AgentRecord,
        since: Int64?,
        until: Int64?,
        threshold: Int64
    ) throws -> [TimelineMarker] {
        var sql = "SELECT first_ns, last_ns FROM batches WHERE agent_id = ?"
        var arguments: StatementArguments = [agent.id]
        if let since {
            sql += " AND last_ns >= ?"
            arguments += [since]
        }
        if let until {
            sql += " AND first_ns < ?"
            arguments += [until]
        }
        sql += " ORDER BY first_ns"
        let ranges = try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            (first: row[0] as Int64, last: row[1] as Int64)
        }
        return TimelineMarker.silences(
            agent: agent.name,
            ranges: ranges,
            since: since,
            until: until,
            threshold: threshold
        )
    }
}

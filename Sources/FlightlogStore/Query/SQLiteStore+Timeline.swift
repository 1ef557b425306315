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
            agents.sort { $0.name < $1.name }
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
            markers.sort { ($0.timeNanos, $0.agent) < ($1.timeNanos, $1.agent) }
            return TimelineContext(agents: agents, markers: markers)
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
            if finding.kind == .gap, let epoch = finding.epoch, let from = finding.fromSequence,
                let to = finding.toSequence
            {
                let before = try Int64.fetchOne(
                    db,
                    sql: "SELECT last_ns FROM batches WHERE agent_id = ? AND epoch = ? AND seq = ?",
                    arguments: [agent.id, epoch.sqlValue, (from &- 1).sqlValue]
                )
                let after = try Int64.fetchOne(
                    db,
                    sql: "SELECT first_ns FROM batches WHERE agent_id = ? AND epoch = ? AND seq = ?",
                    arguments: [agent.id, epoch.sqlValue, (to &+ 1).sqlValue]
                )
                // A gap matters to a window it overlaps: between the last event before it and the first after.
                let start = before ?? after ?? finding.atNanos
                let end = after ?? before ?? finding.atNanos
                guard end >= since, start < until else { continue }
                let missing = from == to ? "batch \(from) is" : "batches \(from)…\(to) are"
                let between = [
                    before.map { "after " + Timestamp.rfc3339($0) }, after.map { "before " + Timestamp.rfc3339($0) },
                ]
                .compactMap { $0 }.joined(separator: " and ")
                markers.append(
                    TimelineMarker(
                        kind: .gap,
                        timeNanos: max(start, since),
                        agent: agent.name,
                        detail: "\(missing) missing from epoch \(epoch): events \(between) may be absent"
                    )
                )
            } else if finding.kind != .gap {
                guard finding.atNanos >= since, finding.atNanos < until else { continue }
                markers.append(
                    TimelineMarker(
                        kind: .finding,
                        timeNanos: finding.atNanos,
                        agent: agent.name,
                        detail: "\(finding.kind.rawValue) (recorded on receipt): \(finding.detail)"
                    )
                )
            }
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
        var markers: [TimelineMarker] = []
        var coveredUntil = since
        var atStart = true
        func silence(from start: Int64, to end: Int64, _ edge: String) {
            // Batch times are whatever agents signed (any i64): saturate rather than trap.
            let length = end.subtractingSaturating(start)
            guard length > threshold else { return }
            markers.append(
                TimelineMarker(
                    kind: .silence,
                    timeNanos: start,
                    agent: agent.name,
                    detail:
                        "no events for \(DurationText.describe(length)) (\(Timestamp.rfc3339(start)) → \(Timestamp.rfc3339(end))\(edge))"
                )
            )
        }
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try cursor.next() {
            let first: Int64 = row[0]
            let last: Int64 = row[1]
            if let covered = coveredUntil {
                silence(from: covered, to: first, atStart ? ", from the window's start" : "")
            }
            atStart = false
            coveredUntil = max(coveredUntil ?? last, last)
        }
        if let covered = coveredUntil, let until, !atStart {
            silence(from: covered, to: until, ", to the window's end")
        }
        return markers
    }
}

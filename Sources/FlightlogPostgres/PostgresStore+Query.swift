public import FlightlogEvidence
public import FlightlogStore
import FlightlogWire
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Calls `body` with each event `query` selects, in its order, until it returns false; returns how many it saw.
    ///
    /// The filters on columns (time window on either clock, host, agent, user, program, source, IP), the order and
    /// the limit. Full text, `--where`, `--around`, Sigma rules and event lists are refused with a message: they are
    /// not on the PostgreSQL store yet (docs/SCALE-OUT.md).
    public func forEachEvent(
        _ query: EventQuery,
        _ body: (EventRecord) throws -> Bool
    ) async throws(StoreError) -> Int {
        let sql = try Self.select(query, count: false)
        return try await self.connection { connection in
            let rows = try await connection.query(sql, logger: self.logger)
            var seen = 0
            for try await row in rows {
                let (
                    id, time, observed, received, flags, host, source, program, pid, user, ip, severity, line, fields,
                    agent, epoch, sequence, index, batchID
                ) = try row.decode(
                    (
                        Int64, Int64, Int64, Int64, Int32, String, String, String?, Int64?, String?, String?, String?,
                        Data, String, String, Int64, Int64, Int32, Int64
                    ).self
                )
                seen += 1
                let event = EventRecord(
                    id: id,
                    timeNanos: time,
                    observedNanos: observed,
                    receivedNanos: received,
                    flags: Event.Flags(rawValue: UInt8(truncatingIfNeeded: flags)),
                    host: host,
                    source: source,
                    program: program,
                    pid: pid,
                    user: user,
                    sourceIP: ip,
                    severity: severity,
                    line: Array(line),
                    fieldsJSON: fields,
                    agent: agent,
                    epoch: UInt64(bitPattern: epoch),
                    sequence: UInt64(bitPattern: sequence),
                    index: Int(index),
                    batchID: batchID
                )
                if try !body(event) { break }
            }
            return seen
        }
    }

    /// How many events `query` selects.
    public func countEvents(_ query: EventQuery) async throws(StoreError) -> Int {
        let sql = try Self.select(query, count: true)
        return try await self.connection { connection in
            try await connection.all(sql, Int.self, logger: self.logger).first ?? 0
        }
    }

    /// How many events each partition of `events` holds, by partition name (`events_2026_12`): what an operator
    /// detaching old months for archive looks at.
    public func partitionCounts() async throws(StoreError) -> [String: Int] {
        try await self.connection { connection in
            let rows = try await connection.query(
                "SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1",
                logger: self.logger
            )
            var counts: [String: Int] = [:]
            for try await (name, count) in rows.decode((String, Int).self) { counts[name] = count }
            return counts
        }
    }

    /// The statement for `query`; every value a bound parameter.
    static func select(_ query: EventQuery, count: Bool) throws(StoreError) -> PostgresQuery {
        var unsupported: [String] = []
        if query.match != nil { unsupported.append("--match") }
        if !query.conditions.isEmpty { unsupported.append("--where") }
        if query.aroundEventID != nil { unsupported.append("--around") }
        if query.rule != nil { unsupported.append("Sigma rules") }
        if query.eventIDs != nil { unsupported.append("event lists") }
        guard unsupported.isEmpty else {
            throw StoreError.database(
                "\(unsupported.joined(separator: ", ")) \(unsupported.count == 1 ? "is" : "are") not supported on the "
                    + "PostgreSQL store yet: filter by time, host, agent, user, program, source or IP"
            )
        }
        let clock = query.clock == .event ? "e.time_ns" : "e.received_ns"
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var sql =
            count
            ? "SELECT count(*) FROM events e JOIN batches b ON b.id = e.batch_id JOIN agents a ON a.id = e.agent_id WHERE TRUE"
            : """
            SELECT e.id, e.time_ns, e.observed_ns, e.received_ns, e.flags, e.host, e.source, e.program, e.pid,
                   e."user", e.src_ip, e.severity, e.line, e.fields, a.name, b.epoch, b.seq, e.idx, e.batch_id
            FROM events e JOIN batches b ON b.id = e.batch_id JOIN agents a ON a.id = e.agent_id WHERE TRUE
            """
        if let since = query.sinceNanos { sql += " AND \(clock) >= \(bind(since))" }
        if let until = query.untilNanos { sql += " AND \(clock) < \(bind(until))" }
        if let host = query.host { sql += " AND e.host = \(bind(host))" }
        if let agent = query.agent { sql += " AND a.name = \(bind(agent))" }
        if let user = query.user { sql += " AND e.\"user\" = \(bind(user))" }
        if let program = query.program { sql += " AND e.program = \(bind(program))" }
        if let source = query.source { sql += " AND e.source = \(bind(source))" }
        if let ip = query.ip { sql += " AND e.src_ip = \(bind(ip))" }
        if !count {
            let direction = query.order == .asc ? "ASC" : "DESC"
            sql += " ORDER BY \(clock) \(direction), e.batch_id \(direction), e.idx \(direction)"
            if let limit = query.limit { sql += " LIMIT \(bind(Int64(limit)))" }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}

public import FlightlogEvidence
public import FlightlogStore
import FlightlogWire
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Calls `body` with each event `query` selects, in its order, until it returns false; returns how many it saw.
    ///
    /// Time, host, agent, user, program, source, IP, event lists and `--around` are selected in SQL; `--match`,
    /// `--where` and Sigma rules in Swift on those rows (``EventRecordFilter``), with the same answers as the SQLite
    /// store. Correlations are refused: not on the PostgreSQL store yet (docs/SCALE-OUT.md).
    public func forEachEvent(
        _ query: EventQuery,
        _ body: (EventRecord) throws -> Bool
    ) async throws(StoreError) -> Int {
        var delivery = try FilteredDelivery(query)
        var failure: (any Error)?
        try await self.streamEvents(query, filtered: delivery.filtered) { chunk in
            do {
                return try delivery.deliver(chunk, to: body)
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure as? StoreError ?? StoreError.database("\(failure)") }
        return delivery.seen
    }

    /// How many events `query` selects, its limit aside (as the SQLite store counts).
    public func countEvents(_ query: EventQuery) async throws(StoreError) -> Int {
        var unlimited = query
        unlimited.limit = nil
        guard try EventRecordFilter(unlimited).passesEverything else {
            return try await self.forEachEvent(unlimited) { _ in true }
        }
        let sql = try await self.select(unlimited, count: true)
        return try await self.connection { connection in
            try await connection.all(sql, Int.self, logger: self.logger).first ?? 0
        }
    }

    /// How many batches a read of `query` goes through: those its time window and columns select and, for a
    /// `--match`, whose token filter has the tokens it needs. What the filter saves, for tests and benchmarks.
    public func candidateBatches(_ query: EventQuery) async throws(StoreError) -> Int {
        let (from, binds) = try await self.fromClause(query)
        return try await self.connection { connection in
            try await connection.all(
                PostgresQuery(unsafeSQL: "SELECT count(DISTINCT e.batch_id)" + from, binds: binds),
                Int.self,
                logger: self.logger
            ).first ?? 0
        }
    }

    /// Streams the rows `query` selects by its columns (SQL), in its order, `chunkSize` at a time, to `send` until it
    /// returns false. With `filtered`, the query's limit is left to the caller: the filter decides which rows count.
    func streamEvents(
        _ query: EventQuery,
        filtered: Bool,
        chunkSize: Int = 512,
        _ send: ([EventRecord]) async throws -> Bool
    ) async throws(StoreError) {
        var sqlQuery = query
        if filtered { sqlQuery.limit = nil }
        let sql = try await self.select(sqlQuery, count: false)
        try await self.connection { connection in
            let rows = try await connection.query(sql, logger: self.logger)
            var chunk: [EventRecord] = []
            chunk.reserveCapacity(chunkSize)
            for try await row in rows {
                chunk.append(try Self.record(row))
                if chunk.count == chunkSize {
                    guard try await send(chunk) else { return }
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { _ = try await send(chunk) }
        }
    }

    /// The columns ``select(_:count:)`` reads, in ``record(_:)``'s order.
    static let recordColumns = """
        e.id, e.time_ns, e.observed_ns, e.received_ns, e.flags, e.host, e.source, e.program, e.pid, e."user",
        e.src_ip, e.severity, e.line, e.fields, a.name, b.epoch, b.seq, e.idx, e.batch_id
        """

    /// An event of a row of ``recordColumns``.
    static func record(_ row: PostgresRow) throws -> EventRecord {
        let (
            id, time, observed, received, flags, host, source, program, pid, user, ip, severity, line, fields,
            agent, epoch, sequence, index, batchID
        ) = try row.decode(
            (
                Int64, Int64, Int64, Int64, Int32, String, String, String?, Int64?, String?, String?, String?,
                Data, String, String, Int64, Int64, Int32, Int64
            ).self
        )
        return EventRecord(
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
    }

    /// One bound value.
    static func binds(_ value: some PostgresDynamicTypeEncodable) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
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

    /// The statement for what `query` selects by columns, times and ids; every value a bound parameter. `--match`,
    /// `--where` and rules are left to ``EventRecordFilter``.
    func select(_ query: EventQuery, count: Bool) async throws(StoreError) -> PostgresQuery {
        var (from, binds) = try await self.fromClause(query)
        var sql = (count ? "SELECT count(*)" : "SELECT " + Self.recordColumns) + from
        if !count {
            let clock = Self.clockColumn(query.clock)
            let direction = query.order == .asc ? "ASC" : "DESC"
            sql += " ORDER BY \(clock) \(direction), e.id \(direction)"
            if let limit = query.limit {
                binds.append(Int64(limit))
                sql += " LIMIT $\(binds.count)"
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// `e.time_ns` or `e.received_ns`.
    static func clockColumn(_ clock: EventQuery.Clock) -> String { clock == .event ? "e.time_ns" : "e.received_ns" }

    /// ` FROM events e JOIN batches b JOIN agents a WHERE …`: what `query` selects by columns, times and ids, with
    /// its bound values (a caller binding more numbers its parameters from `binds.count + 1`).
    func fromClause(_ query: EventQuery) async throws(StoreError) -> (sql: String, binds: PostgresBindings) {
        guard !query.isRestricted else {
            throw StoreError.database(
                "Sigma correlation rules are not supported on the PostgreSQL store yet: run them on an SQLite copy "
                    + "(docs/SCALE-OUT.md)"
            )
        }
        let clock = Self.clockColumn(query.clock)
        var since = query.sinceNanos
        var until = query.untilNanos
        if let id = query.aroundEventID {
            let column = query.clock == .event ? "time_ns" : "received_ns"
            let center = try await self.connection { connection in
                try await connection.all(
                    PostgresQuery(unsafeSQL: "SELECT \(column) FROM events WHERE id = $1", binds: Self.binds(id)),
                    Int64.self,
                    logger: self.logger
                ).first
            }
            guard let time = center else { throw StoreError.unknownEvent(id) }
            // The centre is an event time an agent chose (any i64), the window a flag: saturate, never trap.
            since = max(since ?? Int64.min, time.subtractingSaturating(query.aroundWindowNanos))
            let end = time.addingSaturating(query.aroundWindowNanos)
            if end < Int64.max { until = min(until ?? Int64.max, end + 1) }
        }
        if let agent = query.agent {
            let known = try await self.connection { connection in
                try await connection.all("SELECT id FROM agents WHERE name = \(agent)", Int64.self, logger: self.logger)
            }
            guard !known.isEmpty else { throw StoreError.unknownAgent(name: agent) }
        }
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var sql = " FROM events e JOIN batches b ON b.id = e.batch_id JOIN agents a ON a.id = e.agent_id WHERE TRUE"
        if let since { sql += " AND \(clock) >= \(bind(since))" }
        if let until { sql += " AND \(clock) < \(bind(until))" }
        if let host = query.host { sql += " AND e.host = \(bind(host))" }
        if let agent = query.agent { sql += " AND a.name = \(bind(agent))" }
        if let user = query.user { sql += " AND e.\"user\" = \(bind(user))" }
        if let program = query.program { sql += " AND e.program = \(bind(program))" }
        if let source = query.source { sql += " AND e.source = \(bind(source))" }
        if let ip = query.ip { sql += " AND e.src_ip = \(bind(ip))" }
        if let ids = query.eventIDs { sql += " AND e.id = ANY(\(bind(ids)))" }
        if let match = query.match {
            // Only the batches holding the tokens the expression needs (FTS5 decides on their events).
            let requirement = try self.tokenizers.with { TokenRequirement.of(match: match, tokenizer: $0) }
            if let condition = Self.condition(requirement, { bind($0) }) {
                sql += " AND (b.token_bloom IS NULL OR \(condition))"
            }
        }
        return (sql, binds)
    }

    /// SQL over `b.token_bloom` that holds for every batch `requirement` allows (``TokenBloom``: each token's seven
    /// bits set); nil when it allows every batch.
    static func condition(_ requirement: TokenRequirement, _ bind: (Int64) -> String) -> String? {
        switch requirement {
        case .nothing: return nil
        case .tokens(let tokens):
            guard !tokens.isEmpty else { return nil }
            var bits: [String] = []
            for token in Set(tokens).sorted() {
                let (h1, h2) = TokenBloom.halves(TokenBloom.hash(token.utf8))
                let (first, step) = (bind(h1), bind(h2))
                for probe in 0..<TokenBloom.probes {
                    bits.append(
                        "get_bit(b.token_bloom, ((\(first) + \(probe) * \(step)) % (length(b.token_bloom) * 8))::int) = 1"
                    )
                }
            }
            return "(" + bits.joined(separator: " AND ") + ")"
        case .all(let parts):
            let known = parts.compactMap { Self.condition($0, bind) }
            return known.isEmpty ? nil : "(" + known.joined(separator: " AND ") + ")"
        case .any(let parts):
            var alternatives: [String] = []
            for part in parts {
                guard let condition = Self.condition(part, bind) else { return nil }
                alternatives.append(condition)
            }
            return alternatives.isEmpty ? nil : "(" + alternatives.joined(separator: " OR ") + ")"
        }
    }
}

/// A query's events, chunk by chunk, through its filter (``EventRecordFilter``) to a body, up to the query's limit:
/// what both ways of reading the store (async, and blocking in ``PostgresEventReader``) do with the rows.
struct FilteredDelivery {
    private let filter: EventRecordFilter
    private let limit: Int?
    /// How many events went to the body.
    private(set) var seen = 0

    init(_ query: EventQuery) throws(StoreError) {
        self.filter = try EventRecordFilter(query)
        self.limit = query.limit
    }

    /// Whether the filter decides which rows count (the store then reads without the query's limit).
    var filtered: Bool { !self.filter.passesEverything }

    /// Gives `body` what of `chunk` passes; false once the body stopped or the limit was reached.
    mutating func deliver(_ chunk: [EventRecord], to body: (EventRecord) throws -> Bool) throws -> Bool {
        for event in try self.filter.select(chunk) {
            if let limit = self.limit, self.seen >= limit { return false }
            self.seen += 1
            guard try body(event) else { return false }
        }
        return true
    }
}

import Crypto
import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore {
    /// Enrols an agent by its base64 public key (as `flightlog-agent keygen` prints it).
    @discardableResult
    public func enroll(name: String, publicKeyBase64: String, atNanos: Int64) async throws(StoreError) -> AgentRecord {
        let trimmedName = try EnrolmentInput.name(name)
        let (raw, keyID) = try EnrolmentInput.publicKey(publicKeyBase64)
        return try await self.write { db in
            let clash =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT COUNT(*) FROM agents WHERE name = ? OR public_key = ?)
                             + (SELECT COUNT(*) FROM agent_keys WHERE public_key = ?)
                        """,
                    arguments: [trimmedName, raw.data, raw.data]
                ) ?? 0
            guard clash == 0 else { throw StoreError.alreadyEnrolled(name: trimmedName) }
            try db.execute(
                sql: "INSERT INTO agents (name, public_key, key_id, enrolled_ns) VALUES (?, ?, ?, ?)",
                arguments: [trimmedName, raw.data, keyID.data, atNanos]
            )
            let agentID = db.lastInsertedRowID
            try db.execute(
                sql: """
                    INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                    VALUES (?, ?, ?, ?, NULL, 'enrolled')
                    """,
                arguments: [agentID, raw.data, keyID.data, atNanos]
            )
            return AgentRecord(
                id: agentID,
                name: trimmedName,
                publicKey: raw,
                keyID: keyID,
                enrolledNanos: atNanos
            )
        }
    }

    /// Revokes an agent: its key is refused from now on; what it stored stays.
    public func revoke(name: String, atNanos: Int64) async throws(StoreError) {
        try await self.write { db in
            guard
                let revoked = try Row.fetchOne(
                    db,
                    sql: "SELECT revoked_ns FROM agents WHERE name = ?",
                    arguments: [name]
                )
            else { throw StoreError.unknownAgent(name: name) }
            guard try revoked.decode(Int64?.self, forColumn: "revoked_ns") == nil else {
                throw StoreError.alreadyRevoked(name: name)
            }
            try db.execute(sql: "UPDATE agents SET revoked_ns = ? WHERE name = ?", arguments: [atNanos, name])
        }
    }

    /// Every agent with its chain position, counts and open findings, by name.
    public func agentSummaries() async throws(StoreError) -> [AgentSummary] {
        try await self.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.*,
                        (SELECT epoch FROM chains c WHERE c.agent_id = a.id ORDER BY updated_ns DESC LIMIT 1) AS cur_epoch,
                        (SELECT head_seq FROM chains c WHERE c.agent_id = a.id ORDER BY updated_ns DESC LIMIT 1) AS cur_seq,
                        (SELECT COUNT(*) FROM chains c WHERE c.agent_id = a.id) AS n_epochs,
                        (SELECT COALESCE(SUM(batches), 0) FROM chains c WHERE c.agent_id = a.id) AS n_batches,
                        (SELECT COALESCE(SUM(events), 0) FROM chains c WHERE c.agent_id = a.id) AS n_events,
                        (SELECT COUNT(*) FROM findings f WHERE f.agent_id = a.id AND f.kind = 'gap') AS n_gaps,
                        (SELECT COUNT(*) FROM findings f WHERE f.agent_id = a.id AND f.kind = 'equivocation') AS n_equiv,
                        (SELECT COUNT(*) FROM findings f WHERE f.agent_id = a.id) AS n_findings
                    FROM agents a ORDER BY a.name
                    """
            )
            return try rows.compactMap { row -> AgentSummary? in
                guard let agent = try AgentRecord(row: row) else { return nil }
                return AgentSummary(
                    agent: agent,
                    currentEpoch: try row.decode(Int64?.self, forColumn: "cur_epoch")?.unsignedValue,
                    lastSequence: try row.decode(Int64?.self, forColumn: "cur_seq")?.unsignedValue,
                    epochs: try row.decode(Int.self, forColumn: "n_epochs"),
                    batches: try row.decode(Int64.self, forColumn: "n_batches"),
                    events: try row.decode(Int64.self, forColumn: "n_events"),
                    gaps: try row.decode(Int.self, forColumn: "n_gaps"),
                    equivocations: try row.decode(Int.self, forColumn: "n_equiv"),
                    openFindings: try row.decode(Int.self, forColumn: "n_findings")
                )
            }
        }
    }

    /// Three lookups by index per agent (its last batch by the unique key, that batch's last event by id, its host's
    /// last line backwards on `events_host_time`), so that `agents` stays instant on a store of millions of events.
    public func agentActivity() async throws(StoreError) -> [Int64: AgentActivity] {
        try await self.read { db in
            var activity: [Int64: AgentActivity] = [:]
            let lastEvents = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.id AS agent_id, e.host, \(EventContentFunctions.source()) AS source, e.time_ns, substr(\(EventContentFunctions.line()), 1, ?) AS head
                    FROM agents a
                    JOIN batches b ON b.id = (
                        SELECT id FROM batches WHERE agent_id = a.id ORDER BY epoch DESC, seq DESC LIMIT 1)
                    JOIN events e ON e.id = b.first_event_id + b.event_count - 1
                    """,
                arguments: [AgentActivity.stopPrefix.count]
            )
            for row in lastEvents {
                let agentID: Int64 = try row.decode(Int64.self, forColumn: "agent_id")
                let host: String = try row.decode(String.self, forColumn: "host")
                let source: String = try row.decode(String.self, forColumn: "source")
                let head = (try row.decode(Data?.self, forColumn: "head")).map { [UInt8]($0) } ?? []
                let lastLine = try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT time_ns FROM events e INDEXED BY events_host_time
                        WHERE host = ? AND \(EventContentFunctions.source()) <> ? ORDER BY time_ns DESC LIMIT 1
                        """,
                    arguments: [host, AgentActivity.lifecycleSource]
                )
                activity[agentID] = AgentActivity(
                    host: host,
                    lastLineNanos: lastLine,
                    stopped: source == AgentActivity.lifecycleSource && head == AgentActivity.stopPrefix,
                    lastEventNanos: try row.decode(Int64.self, forColumn: "time_ns")
                )
            }
            return activity
        }
    }

    /// Findings, oldest first, optionally for one agent.
    public func findings(agentID: Int64? = nil) async throws(StoreError) -> [ChainFinding] {
        try await self.read { db in
            let rows: [Row]
            if let agentID {
                rows = try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM findings WHERE agent_id = ? ORDER BY id",
                    arguments: [agentID]
                )
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM findings ORDER BY id")
            }
            return try rows.compactMap(ChainFinding.init(row:))
        }
    }

    /// Stored counts, for tests and status.
    public func counts() async throws(StoreError) -> (batches: Int, events: Int, fullText: Int) {
        try await self.read { db in
            let batches = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batches") ?? 0
            let events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0
            let text = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(FullTextLayout.view)") ?? 0
            return (batches, events, text)
        }
    }

    /// The raw lines stored for an agent, in chain order (epoch of first sight, then sequence, then position).
    /// Sequences are stored as the signed integer with the same bits, so `seq < 0` (2^63 and above) sorts last.
    public func lines(agentName: String? = nil) async throws(StoreError) -> [[UInt8]] {
        try await self.read { db in
            let sql = """
                SELECT \(EventContentFunctions.line()) FROM events e JOIN agents a ON a.id = e.agent_id
                JOIN batches b ON b.id = e.batch_id
                JOIN chains c ON c.agent_id = b.agent_id AND c.epoch = b.epoch
                \(agentName == nil ? "" : "WHERE a.name = ?")
                ORDER BY c.first_seen_ns, b.seq < 0, b.seq, e.idx
                """
            let arguments: StatementArguments = agentName.map { [$0] } ?? []
            return try Data.fetchAll(db, sql: sql, arguments: arguments).map { Array($0) }
        }
    }
}

// MARK: - Rows

// Rows are decoded with `Row.decode`, which throws, never with GRDB's subscripts, which stop the process on a value
// of another type: the tables are not STRICT, and whoever can write the file can store text in an integer column.

extension SQLiteStore {
    /// Outcomes of recorded handshakes, oldest first (`accepted` or an error code name).
    public func handshakeOutcomes() async throws(StoreError) -> [String] {
        try await self.read { db in try String.fetchAll(db, sql: "SELECT outcome FROM handshakes ORDER BY id") }
    }
}

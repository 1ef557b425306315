import Crypto
public import FlightlogStore
import FlightlogWire
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Enrols a key (standard base64 of the 32 raw bytes) under `name`, refused as the SQLite store refuses it.
    @discardableResult
    public func enroll(name: String, publicKeyBase64: String, atNanos: Int64) async throws(StoreError) -> AgentRecord {
        let trimmedName = try EnrolmentInput.name(name)
        let (raw, keyID) = try EnrolmentInput.publicKey(publicKeyBase64)
        return try await self.transaction { connection in
            // Serialises enrolments, token redemptions and rotations (nodes and operators at once), so that the clash
            // check and the insert agree: an advisory lock, which the serve role may take where it may not lock the
            // table.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.enrolmentLock))", logger: self.logger)
            let clash =
                try await connection.all(
                    """
                    SELECT (SELECT count(*) FROM agents WHERE name = \(trimmedName) OR public_key = \(raw.data))
                         + (SELECT count(*) FROM agent_keys WHERE public_key = \(raw.data))
                    """,
                    Int.self,
                    logger: self.logger
                ).first ?? 0
            guard clash == 0 else { throw StoreError.alreadyEnrolled(name: trimmedName) }
            let ids = try await connection.all(
                """
                INSERT INTO agents (name, public_key, key_id, enrolled_ns)
                VALUES (\(trimmedName), \(raw.data), \(keyID.data), \(atNanos)) RETURNING id
                """,
                Int64.self,
                logger: self.logger
            )
            guard let agentID = ids.first else { throw StoreError.database("INSERT INTO agents returned no id") }
            try await connection.query(
                """
                INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                VALUES (\(agentID), \(raw.data), \(keyID.data), \(atNanos), NULL, 'enrolled')
                """,
                logger: self.logger
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

    /// The advisory lock key of changes to the set of agents and their keys.
    static let enrolmentLock: Int64 = 0x466c_6967_456e_726c  // "FligEnrl"

    /// Revokes the agent named `name`: its handshakes and batches are refused from `atNanos` on, on every node (each
    /// ingest transaction reads the revocation under the agent row's lock).
    public func revoke(name: String, atNanos: Int64) async throws(StoreError) {
        try await self.transaction { connection in
            let rows = try await connection.query(
                "SELECT revoked_ns FROM agents WHERE name = \(name) FOR UPDATE",
                logger: self.logger
            )
            var found = false
            for try await revoked in rows.decode(Int64?.self) {
                found = true
                if revoked != nil { throw StoreError.alreadyRevoked(name: name) }
            }
            guard found else { throw StoreError.unknownAgent(name: name) }
            try await connection.query(
                "UPDATE agents SET revoked_ns = \(atNanos) WHERE name = \(name)",
                logger: self.logger
            )
        }
    }

    /// Every agent with its chains' figures, for `flightlog agents`.
    public func agentSummaries() async throws(StoreError) -> [AgentSummary] {
        try await self.connection { connection in
            let agents = try await Self.agents(connection, where: "", logger: self.logger)
            let rows = try await connection.query(
                """
                SELECT a.id,
                    (SELECT epoch FROM chains c WHERE c.agent_id = a.id ORDER BY updated_ns DESC LIMIT 1),
                    (SELECT head_seq FROM chains c WHERE c.agent_id = a.id ORDER BY updated_ns DESC LIMIT 1),
                    (SELECT count(*) FROM chains c WHERE c.agent_id = a.id),
                    (SELECT COALESCE(sum(batches), 0)::BIGINT FROM chains c WHERE c.agent_id = a.id),
                    (SELECT COALESCE(sum(events), 0)::BIGINT FROM chains c WHERE c.agent_id = a.id),
                    (SELECT count(*) FROM findings f WHERE f.agent_id = a.id AND f.kind = 'gap'),
                    (SELECT count(*) FROM findings f WHERE f.agent_id = a.id AND f.kind = 'equivocation'),
                    (SELECT count(*) FROM findings f WHERE f.agent_id = a.id)
                FROM agents a
                """,
                logger: self.logger
            )
            var figures: [Int64: AgentSummary] = [:]
            let byID = Dictionary(agents.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            for try await (id, epoch, sequence, epochs, batches, events, gaps, equivocations, findings) in rows.decode(
                (Int64, Int64?, Int64?, Int, Int64, Int64, Int, Int, Int).self
            ) {
                guard let agent = byID[id] else { continue }
                figures[id] = AgentSummary(
                    agent: agent,
                    currentEpoch: epoch.map(UInt64.init(bitPattern:)),
                    lastSequence: sequence.map(UInt64.init(bitPattern:)),
                    epochs: epochs,
                    batches: batches,
                    events: events,
                    gaps: gaps,
                    equivocations: equivocations,
                    openFindings: findings
                )
            }
            return agents.compactMap { figures[$0.id] }
        }
    }

    /// The findings recorded at ingest, of one agent or of all, oldest first.
    public func findings(agentID: Int64? = nil) async throws(StoreError) -> [ChainFinding] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT id, kind, agent_id, epoch, from_seq, to_seq, batch_hash, other_hash, detail, at_ns
                FROM findings WHERE \(agentID)::BIGINT IS NULL OR agent_id = \(agentID) ORDER BY id
                """,
                logger: self.logger
            )
            var out: [ChainFinding] = []
            for try await (id, kind, agent, epoch, from, to, batchHash, otherHash, detail, at) in rows.decode(
                (Int64, String, Int64?, Int64?, Int64?, Int64?, Data?, Data?, String, Int64).self
            ) {
                guard let kind = ChainFinding.Kind(rawValue: kind) else { continue }
                out.append(
                    ChainFinding(
                        id: id,
                        kind: kind,
                        agentID: agent,
                        epoch: epoch.map(UInt64.init(bitPattern:)),
                        fromSequence: from.map(UInt64.init(bitPattern:)),
                        toSequence: to.map(UInt64.init(bitPattern:)),
                        batchHash: batchHash.flatMap(Bytes32.init(data:)),
                        otherHash: otherHash.flatMap(Bytes32.init(data:)),
                        detail: detail,
                        atNanos: at
                    )
                )
            }
            return out
        }
    }

    /// Stored batches and events.
    public func counts() async throws(StoreError) -> (batches: Int, events: Int) {
        try await self.connection { connection in
            let rows = try await connection.query(
                "SELECT (SELECT count(*) FROM batches), (SELECT count(*) FROM events)",
                logger: self.logger
            )
            for try await (batches, events) in rows.decode((Int, Int).self) { return (batches, events) }
            return (0, 0)
        }
    }

    /// The agents a `WHERE` clause selects, by name.
    static func agents(
        _ connection: PostgresConnection,
        where clause: PostgresQuery,
        logger: Logger
    ) async throws -> [AgentRecord] {
        var query: PostgresQuery = """
            SELECT id, name, public_key, key_id, enrolled_ns, revoked_ns, last_seen_ns, last_skew_ns, last_address
            FROM agents
            """
        query.sql += " " + clause.sql + " ORDER BY name"
        query.binds = clause.binds
        let rows = try await connection.query(query, logger: logger)
        var out: [AgentRecord] = []
        for try await (id, name, key, keyID, enrolled, revoked, seen, skew, address) in rows.decode(
            (Int64, String, Data, Data, Int64, Int64?, Int64?, Int64?, String?).self
        ) {
            guard let key = Bytes32(data: key), let keyID = Bytes32(data: keyID) else { continue }
            out.append(
                AgentRecord(
                    id: id,
                    name: name,
                    publicKey: key,
                    keyID: keyID,
                    enrolledNanos: enrolled,
                    revokedNanos: revoked,
                    lastSeenNanos: seen,
                    lastSkewNanos: skew,
                    lastAddress: address
                )
            )
        }
        return out
    }
}

extension PostgresStore {
    /// The raw lines stored for `agentName` (every agent's when nil), in chain order: chains in the order they were
    /// first seen, then sequence, then place in the batch (as the SQLite store's `lines(agentName:)`).
    public func lines(agentName: String? = nil) async throws(StoreError) -> [[UInt8]] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT e.line FROM events e JOIN agents a ON a.id = e.agent_id JOIN batches b ON b.id = e.batch_id
                JOIN chains c ON c.agent_id = b.agent_id AND c.epoch = b.epoch
                WHERE \(agentName)::TEXT IS NULL OR a.name = \(agentName)
                ORDER BY c.first_seen_ns, b.seq < 0, b.seq, e.idx
                """,
                logger: self.logger
            )
            var out: [[UInt8]] = []
            for try await line in rows.decode(Data.self) { out.append(Array(line)) }
            return out
        }
    }
}

import Crypto
import FlightlogEvidence
public import FlightlogStore
import FlightlogWire
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Issues a one-time token that enrols one key under `name` until `expiresNanos` (the SQLite store's rules,
    /// SQLiteStore+Enrolment.swift); the secret is returned once and stored as its SHA-256. Audited as
    /// `enroll-token` by `who`, in the same transaction.
    public func issueToken(
        name: String,
        expiresNanos: Int64,
        reenroll: Bool,
        who: String,
        atNanos: Int64
    ) async throws(StoreError) -> (id: Int64, token: String) {
        let trimmed = try EnrolmentInput.name(name)
        let (token, hash) = EnrolmentToken.makeSecret()
        let id = try await self.transaction { connection in
            let enrolled =
                try await connection.all(
                    "SELECT count(*) FROM agents WHERE name = \(trimmed)",
                    Int.self,
                    logger: self.logger
                ).first ?? 0
            if enrolled > 0 && !reenroll { throw StoreError.alreadyEnrolled(name: trimmed) }
            let ids = try await connection.all(
                """
                INSERT INTO enrolment_tokens (name, token_hash, created_ns, expires_ns, reenroll, created_by)
                VALUES (\(trimmed), \(Data(hash)), \(atNanos), \(expiresNanos), \(reenroll), \(who)) RETURNING id
                """,
                Int64.self,
                logger: self.logger
            )
            guard let id = ids.first else { throw StoreError.database("INSERT INTO enrolment_tokens returned no id") }
            try await self.appendAudit(
                AuditEntry(
                    atNanos: atNanos,
                    who: who,
                    command: "enroll-token",
                    arguments: ["--name", trimmed, "--expires", Timestamp.rfc3339(expiresNanos)]
                        + (reenroll ? ["--reenroll"] : []),
                    resultCount: id,
                    outcome: "issued token \(id)"
                ),
                connection
            )
            return id
        }
        return (id, token)
    }

    /// Revokes the unused tokens of `name` (or the one with `id`); returns how many. Audited as `revoke-token`.
    public func revokeTokens(name: String?, id: Int64?, who: String, atNanos: Int64) async throws(StoreError) -> Int {
        try await self.transaction { connection in
            let revoked = try await connection.all(
                """
                UPDATE enrolment_tokens SET revoked_ns = \(atNanos)
                WHERE used_ns IS NULL AND revoked_ns IS NULL
                  AND (\(name)::TEXT IS NULL OR name = \(name)) AND (\(id)::BIGINT IS NULL OR id = \(id))
                RETURNING id
                """,
                Int64.self,
                logger: self.logger
            ).count
            try await self.appendAudit(
                AuditEntry(
                    atNanos: atNanos,
                    who: who,
                    command: "revoke-token",
                    arguments: (name.map { ["--name", $0] } ?? []) + (id.map { ["--id", String($0)] } ?? []),
                    resultCount: Int64(revoked),
                    outcome: revoked > 0 ? "revoked" : "no unused token"
                ),
                connection
            )
            return revoked
        }
    }

    /// Every token, newest first, without its secret.
    public func tokens() async throws(StoreError) -> [EnrolmentToken] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT id, name, created_ns, expires_ns, reenroll, created_by, used_ns, used_key, used_peer, revoked_ns
                FROM enrolment_tokens ORDER BY id DESC
                """,
                logger: self.logger
            )
            var out: [EnrolmentToken] = []
            for try await row in rows.decode(
                (Int64, String, Int64, Int64, Bool, String, Int64?, Data?, String?, Int64?).self
            ) {
                out.append(
                    EnrolmentToken(
                        id: row.0,
                        name: row.1,
                        createdNanos: row.2,
                        expiresNanos: row.3,
                        reenroll: row.4,
                        createdBy: row.5,
                        usedNanos: row.6,
                        usedKey: Bytes32(data: row.7),
                        usedPeer: row.8,
                        revokedNanos: row.9
                    )
                )
            }
            return out
        }
    }

    /// Enrols `publicKey` with `token` (PROTOCOL.md §4.10): the token's use, the agent and its audit record commit
    /// together, or nothing does. The token's row is locked first, so two nodes redeeming one token at once enrol
    /// once; the agents' table is locked as `enroll` locks it, so that a name cannot be taken twice.
    func redeemToken(
        _ token: String,
        publicKey: Bytes32,
        peer: String,
        atNanos: Int64
    ) async throws(StoreError) -> Result<AgentRecord, EnrolmentRefusal> {
        if let defect = Ed25519.defect(publicKey: publicKey.bytes) { return .failure(.badKey("\(defect)")) }
        let hash = EnrolmentToken.hash(token)
        let key = publicKey.data
        let keyID = KeyID.of(publicKeyBytes: publicKey).data
        return try await self.transaction { connection -> Result<AgentRecord, EnrolmentRefusal> in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.enrolmentLock))", logger: self.logger)
            let rows = try await connection.query(
                """
                SELECT id, token_hash, used_ns, revoked_ns, expires_ns, name, reenroll FROM enrolment_tokens
                WHERE token_hash = \(Data(hash)) FOR UPDATE
                """,
                logger: self.logger
            )
            var found: (Int64, Data, Int64?, Int64?, Int64, String, Bool)?
            for try await row in rows.decode((Int64, Data, Int64?, Int64?, Int64, String, Bool).self) { found = row }
            guard let (tokenID, stored, used, revoked, expires, name, reenroll) = found,
                EnrolmentToken.constantTimeEqual(Array(stored), hash)
            else { return .failure(.unknownToken) }
            if let used { return .failure(.used(atNanos: used)) }
            if let revoked { return .failure(.revoked(atNanos: revoked)) }
            guard atNanos < expires else { return .failure(.expired(atNanos: expires)) }
            let holders = try await connection.all(
                "SELECT a.name FROM agent_keys k JOIN agents a ON a.id = k.agent_id WHERE k.public_key = \(key)",
                String.self,
                logger: self.logger
            )
            if let holder = holders.first { return .failure(.keyEnrolled(name: holder)) }
            let existing = try await Self.agents(connection, where: "WHERE name = \(name)", logger: self.logger).first
            let agentID: Int64
            if let existing {
                guard reenroll else { return .failure(.nameTaken(name)) }
                agentID = existing.id
                try await connection.query(
                    "UPDATE agent_keys SET until_ns = \(atNanos) WHERE agent_id = \(agentID) AND until_ns IS NULL",
                    logger: self.logger
                )
                try await connection.query(
                    "UPDATE agents SET public_key = \(key), key_id = \(keyID) WHERE id = \(agentID)",
                    logger: self.logger
                )
                try await Self.insert(
                    connection,
                    ChainFinding(
                        kind: .reenrolled,
                        agentID: agentID,
                        epoch: nil,
                        detail: "\(name) re-enrolled with a new key by token \(tokenID) from \(peer); its old key "
                            + "\(existing.publicKey.hex.prefix(16))… is retired and its chains end where they are",
                        atNanos: atNanos
                    ),
                    logger: self.logger
                )
            } else {
                let ids = try await connection.all(
                    """
                    INSERT INTO agents (name, public_key, key_id, enrolled_ns)
                    VALUES (\(name), \(key), \(keyID), \(atNanos)) RETURNING id
                    """,
                    Int64.self,
                    logger: self.logger
                )
                guard let id = ids.first else { throw StoreError.database("INSERT INTO agents returned no id") }
                agentID = id
            }
            try await connection.query(
                """
                INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                VALUES (\(agentID), \(key), \(keyID), \(atNanos), NULL, \(existing == nil ? "enrolled" : "reenrolled"))
                """,
                logger: self.logger
            )
            try await connection.query(
                """
                UPDATE enrolment_tokens SET used_ns = \(atNanos), used_key = \(key), used_peer = \(peer)
                WHERE id = \(tokenID)
                """,
                logger: self.logger
            )
            try await self.appendAudit(
                AuditEntry(
                    atNanos: atNanos,
                    who: "serve",
                    command: "enroll",
                    arguments: ["--token-id", String(tokenID), "--name", name, "--key", publicKey.hex, "--peer", peer],
                    resultCount: 1,
                    outcome: existing == nil ? "enrolled" : "re-enrolled"
                ),
                connection
            )
            guard
                let agent = try await Self.agents(connection, where: "WHERE id = \(agentID)", logger: self.logger).first
            else { throw StoreError.database("the enrolled agent \(name) cannot be read back") }
            return .success(agent)
        }
    }
}

import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore {
    /// Tokens are `flt1_` and 32 characters of base32: 160 random bits.
    static let tokenPrefix = "flt1_"

    /// Issues a one-time token that enrols one key under `name` until `expiresNanos`; returns the secret, which is
    /// shown once and stored only as its SHA-256. Recorded in the audit trail as `enroll-token` by `who`.
    public func issueToken(
        name: String,
        expiresNanos: Int64,
        reenroll: Bool,
        who: String,
        atNanos: Int64
    ) async throws(StoreError) -> (id: Int64, token: String) {
        let trimmed = try EnrolmentInput.name(name)
        let (token, hashBytes) = EnrolmentToken.makeSecret()
        let hash = Data(hashBytes)
        let id = try await self.write { db -> Int64 in
            let enrolled =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM agents WHERE name = ?", arguments: [trimmed]) ?? 0
            if enrolled > 0 && !reenroll { throw StoreError.alreadyEnrolled(name: trimmed) }
            try db.execute(
                sql: """
                    INSERT INTO enrolment_tokens (name, token_hash, created_ns, expires_ns, reenroll, created_by)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [trimmed, hash, atNanos, expiresNanos, reenroll, who]
            )
            let id = db.lastInsertedRowID
            _ = try AuditTrail.append(
                AuditEntry(
                    atNanos: atNanos,
                    who: who,
                    command: "enroll-token",
                    arguments: [
                        "--name", trimmed, "--expires", Timestamp.rfc3339(expiresNanos),
                    ] + (reenroll ? ["--reenroll"] : []),
                    resultCount: id,
                    outcome: "issued token \(id)"
                ),
                to: db
            )
            return id
        }
        return (id, token)
    }

    /// Revokes the unused tokens of `name` (or the one with `id`); returns how many.
    public func revokeTokens(name: String?, id: Int64?, who: String, atNanos: Int64) async throws(StoreError) -> Int {
        try await self.write { db in
            var sql = "UPDATE enrolment_tokens SET revoked_ns = ? WHERE used_ns IS NULL AND revoked_ns IS NULL"
            var arguments: StatementArguments = [atNanos]
            if let name {
                sql += " AND name = ?"
                arguments += [name]
            }
            if let id {
                sql += " AND id = ?"
                arguments += [id]
            }
            try db.execute(sql: sql, arguments: arguments)
            let count = db.changesCount
            _ = try AuditTrail.append(
                AuditEntry(
                    atNanos: atNanos,
                    who: who,
                    command: "revoke-token",
                    arguments: (name.map { ["--name", $0] } ?? []) + (id.map { ["--id", String($0)] } ?? []),
                    resultCount: Int64(count),
                    outcome: count > 0 ? "revoked" : "no unused token"
                ),
                to: db
            )
            return count
        }
    }

    /// Every token, newest first.
    public func tokens() async throws(StoreError) -> [EnrolmentToken] {
        try await self.read { db in
            guard try db.tableExists("enrolment_tokens") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT * FROM enrolment_tokens ORDER BY id DESC").map { row in
                EnrolmentToken(
                    id: try row.decode(Int64.self, forColumn: "id"),
                    name: try row.decode(String.self, forColumn: "name"),
                    createdNanos: try row.decode(Int64.self, forColumn: "created_ns"),
                    expiresNanos: try row.decode(Int64.self, forColumn: "expires_ns"),
                    reenroll: try row.decode(Bool.self, forColumn: "reenroll"),
                    createdBy: try row.decode(String.self, forColumn: "created_by"),
                    usedNanos: try row.decode(Int64?.self, forColumn: "used_ns"),
                    usedKey: Bytes32(data: try row.decode(Data?.self, forColumn: "used_key")),
                    usedPeer: try row.decode(String?.self, forColumn: "used_peer"),
                    revokedNanos: try row.decode(Int64?.self, forColumn: "revoked_ns")
                )
            }
        }
    }

    /// Enrols `publicKey` with `token` (PROTOCOL.md §4.10), in one transaction with the token's use and its audit
    /// record. A token issued with `--reenroll` for a name already enrolled replaces that agent's key: the old key
    /// is retired (its batches stay valid evidence), and a `reenrolled` finding records it.
    public func redeem(
        token: String,
        publicKey: Bytes32,
        peer: String,
        atNanos: Int64
    ) async throws -> Result<AgentRecord, EnrolmentRefusal> {
        if let defect = Ed25519.defect(publicKey: publicKey.bytes) { return .failure(.badKey("\(defect)")) }
        let hash = Data(SHA256.hash(data: Array(token.utf8)))
        let key = publicKey.data
        let keyID = KeyID.of(publicKeyBytes: publicKey).data
        return try await self.write { db -> Result<AgentRecord, EnrolmentRefusal> in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT * FROM enrolment_tokens WHERE token_hash = ?",
                    arguments: [hash]
                ),
                let stored = try row.decode(Data?.self, forColumn: "token_hash"), Self.constantTimeEqual(stored, hash)
            else { return .failure(.unknownToken) }
            let tokenID = try row.decode(Int64.self, forColumn: "id")
            if let used = try row.decode(Int64?.self, forColumn: "used_ns") { return .failure(.used(atNanos: used)) }
            if let revoked = try row.decode(Int64?.self, forColumn: "revoked_ns") {
                return .failure(.revoked(atNanos: revoked))
            }
            let expires = try row.decode(Int64.self, forColumn: "expires_ns")
            guard atNanos < expires else { return .failure(.expired(atNanos: expires)) }
            let name = try row.decode(String.self, forColumn: "name")
            let reenroll = try row.decode(Bool.self, forColumn: "reenroll")
            if let holder = try String.fetchOne(
                db,
                sql: "SELECT a.name FROM agent_keys k JOIN agents a ON a.id = k.agent_id WHERE k.public_key = ?",
                arguments: [key]
            ) {
                return .failure(.keyEnrolled(name: holder))
            }
            let existing = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE name = ?", arguments: [name])
            let agentID: Int64
            if let existing {
                guard reenroll else { return .failure(.nameTaken(name)) }
                agentID = try existing.decode(Int64.self, forColumn: "id")
                let oldKey = try existing.decode(Data.self, forColumn: "public_key")
                try db.execute(
                    sql: "UPDATE agent_keys SET until_ns = ? WHERE agent_id = ? AND until_ns IS NULL",
                    arguments: [atNanos, agentID]
                )
                try db.execute(
                    sql: "UPDATE agents SET public_key = ?, key_id = ? WHERE id = ?",
                    arguments: [key, keyID, agentID]
                )
                try Self.insert(
                    db,
                    ChainFinding(
                        kind: .reenrolled,
                        agentID: agentID,
                        epoch: nil,
                        detail: "\(name) re-enrolled with a new key by token \(tokenID) from \(peer); its old key "
                            + "\(oldKey.hexString.prefix(16))… is retired and its chains end where they are",
                        atNanos: atNanos
                    )
                )
            } else {
                try db.execute(
                    sql: "INSERT INTO agents (name, public_key, key_id, enrolled_ns) VALUES (?, ?, ?, ?)",
                    arguments: [name, key, keyID, atNanos]
                )
                agentID = db.lastInsertedRowID
            }
            try db.execute(
                sql: """
                    INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                    VALUES (?, ?, ?, ?, NULL, ?)
                    """,
                arguments: [agentID, key, keyID, atNanos, existing == nil ? "enrolled" : "reenrolled"]
            )
            try db.execute(
                sql: "UPDATE enrolment_tokens SET used_ns = ?, used_key = ?, used_peer = ? WHERE id = ?",
                arguments: [atNanos, key, peer, tokenID]
            )
            _ = try AuditTrail.append(
                AuditEntry(
                    atNanos: atNanos,
                    who: "serve",
                    command: "enroll",
                    arguments: ["--token-id", String(tokenID), "--name", name, "--key", publicKey.hex, "--peer", peer],
                    resultCount: 1,
                    outcome: existing == nil ? "enrolled" : "re-enrolled"
                ),
                to: db
            )
            guard
                let agent = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [agentID])
                    .flatMap(
                        { try AgentRecord(row: $0) }
                    )
            else { throw StoreError.database("the enrolled agent \(name) cannot be read back") }
            return .success(agent)
        }
    }

    /// Stores a rotation (PROTOCOL.md §4.12) for the agent enrolled with its old key: the record's signatures,
    /// the old chain's stored head, and a new key no agent holds are checked in the transaction that makes the new
    /// key the agent's. A record already stored is accepted again (a retry after a lost answer).
    public func rotate(_ record: RotationRecord, atNanos: Int64) async throws -> Result<AgentRecord, RotationRefusal> {
        if let problem = record.signatureProblem { return .failure(RotationRefusal(reason: problem)) }
        let bytes = Data(record.bytes)
        return try await self.write { db -> Result<AgentRecord, RotationRefusal> in
            if let agentID = try Int64.fetchOne(
                db,
                sql: "SELECT agent_id FROM rotations WHERE record = ?",
                arguments: [bytes]
            ),
                let agent = try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE id = ?", arguments: [agentID])
                    .flatMap({
                        try AgentRecord(row: $0)
                    }), agent.publicKey == record.newPublicKey
            {
                return .success(agent)
            }
            guard
                let agent = try Row.fetchOne(
                    db,
                    sql: "SELECT * FROM agents WHERE public_key = ?",
                    arguments: [record.oldPublicKey.data]
                ).flatMap({ try AgentRecord(row: $0) })
            else { return .failure(RotationRefusal(reason: "the old key is not an enrolled agent's current key")) }
            guard agent.revokedNanos == nil else {
                return .failure(RotationRefusal(reason: "\(agent.name) is revoked"))
            }
            let head = try Self.head(db, agentID: agent.id, epoch: record.oldEpoch)
            let stored = head ?? ChainLink.Head(sequence: 0, hash: .zero)
            guard stored.sequence == record.oldHeadSequence, stored.hash == record.oldHeadHash else {
                return .failure(
                    RotationRefusal(
                        reason:
                            "the record names batch \(record.oldHeadSequence) as the head of epoch \(record.oldEpoch); "
                            + "the aggregator holds \(stored.sequence): ship every batch before rotating"
                    )
                )
            }
            let taken =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM agent_keys WHERE public_key = ?",
                    arguments: [record.newPublicKey.data]
                ) ?? 0
            guard taken == 0 else { return .failure(RotationRefusal(reason: "the new key is enrolled already")) }
            let newEpochUsed =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM chains WHERE agent_id = ? AND epoch = ?",
                    arguments: [agent.id, record.newEpoch.sqlValue]
                ) ?? 0
            guard newEpochUsed == 0 else {
                return .failure(RotationRefusal(reason: "the new epoch \(record.newEpoch) holds batches already"))
            }
            let newKeyID = KeyID.of(publicKeyBytes: record.newPublicKey).data
            try db.execute(
                sql: "UPDATE agent_keys SET until_ns = ? WHERE agent_id = ? AND until_ns IS NULL",
                arguments: [atNanos, agent.id]
            )
            try db.execute(
                sql: """
                    INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                    VALUES (?, ?, ?, ?, NULL, 'rotated')
                    """,
                arguments: [agent.id, record.newPublicKey.data, newKeyID, atNanos]
            )
            try db.execute(
                sql: "UPDATE agents SET public_key = ?, key_id = ? WHERE id = ?",
                arguments: [record.newPublicKey.data, newKeyID, agent.id]
            )
            try db.execute(
                sql: "INSERT INTO rotations (agent_id, new_epoch, record, received_ns) VALUES (?, ?, ?, ?)",
                arguments: [agent.id, record.newEpoch.sqlValue, bytes, atNanos]
            )
            _ = try AuditTrail.append(
                AuditEntry(
                    atNanos: atNanos,
                    who: "serve",
                    command: "rotate-key",
                    arguments: [
                        "--name", agent.name, "--old-key", record.oldPublicKey.hex, "--new-key",
                        record.newPublicKey.hex,
                        "--old-epoch", String(record.oldEpoch), "--old-head", String(record.oldHeadSequence),
                        "--new-epoch", String(record.newEpoch),
                    ],
                    resultCount: 1,
                    outcome: "rotated"
                ),
                to: db
            )
            var rotated = agent
            rotated.publicKey = record.newPublicKey
            rotated.keyID = KeyID.of(publicKeyBytes: record.newPublicKey)
            return .success(rotated)
        }
    }

    /// The agent holding `publicKey` now or before, with when the key stopped being its key (nil: it still is).
    public func keyHolder(publicKey: Bytes32) async throws -> (name: String, untilNanos: Int64?)? {
        try await self.read { db in
            guard try db.tableExists("agent_keys") else { return nil }
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT a.name, k.until_ns FROM agent_keys k JOIN agents a ON a.id = k.agent_id WHERE k.public_key = ?",
                    arguments: [publicKey.data]
                )
            else { return nil }
            return (try row.decode(String.self, atIndex: 0), try row.decode(Int64?.self, atIndex: 1))
        }
    }

    /// The stored rotation records of every agent, oldest first.
    public func rotations() async throws(StoreError) -> [(agent: String, record: RotationRecord, receivedNanos: Int64)]
    {
        try await self.read { db in
            guard try db.tableExists("rotations") else { return [] }
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT a.name, r.record, r.received_ns FROM rotations r JOIN agents a ON a.id = r.agent_id ORDER BY r.id"
            ).compactMap { row in
                guard let record = try? RotationRecord(bytes: try row.decode(Data.self, atIndex: 1)) else { return nil }
                return (try row.decode(String.self, atIndex: 0), record, try row.decode(Int64.self, atIndex: 2))
            }
        }
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

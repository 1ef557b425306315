import Crypto
import FlightlogEvidence
import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// `verify` on the PostgreSQL store: clean on what ingest stored, and each kind of insider edit found, named by
/// the right kind, on a fresh store each.
@Suite("PostgreSQL store: verify and tampering")
struct PostgresVerifyTests {
    /// A store with two agents' chains (batches 1–4 and 5–8) and a signed checkpoint of its 8 leaves; `tamper` is then
    /// run on it, as SQL, and `verify` runs `later` after now.
    private func findings(
        after tamper: String?,
        later: Int64 = 0,
        external: ((CheckpointSigner, PostgresStore) async throws -> [SignedCheckpoint])? = nil
    ) async throws -> VerifyReport {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        for name in ["ws-verify-1", "ws-verify-2"] {
            let agent = TestAgent(name: name)
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await agent.ingest(try agent.chain(4, eventsPerBatch: 3), into: store)
        }
        let signer = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        _ = try await store.makeCheckpoint(signer: signer, atNanos: nowNanos(), onlyWhenGrown: false)
        // Checkpoints kept off-site, taken before the edit.
        let offSite = try await external?(signer, store) ?? []
        if let tamper { try await database.execute(tamper) }
        let report = try await store.verify(
            VerifyOptions(
                mode: .full,
                externalCheckpoints: offSite.map { .success($0) },
                verifier: signer.verifier,
                nowNanos: nowNanos() + later
            )
        )
        store.close()
        await database.drop()
        return report
    }

    @Test func whatIngestStoredVerifiesClean() async throws {
        let report = try await self.findings(after: nil)
        #expect(report.isClean, "\(report.findings)")
        #expect(report.batchesChecked == 8)
        #expect(report.eventsChecked == 24)
        #expect(report.treeSize == 8)
        #expect(report.checkpointsChecked == 1)
    }

    /// Each insider edit, and the kind of finding that names it.
    static let edits: [(sql: String, kind: VerifyFinding.Kind)] = [
        // An event's user rewritten in the row.
        (
            #"UPDATE events SET "user" = 'nobody' WHERE id = (SELECT min(id) FROM events)"#,
            VerifyFinding.Kind.rowEdited
        ),
        // A line rewritten.
        ("UPDATE events SET line = 'innocent'::bytea WHERE idx = 1 AND batch_id = 2", .rowEdited),
        // An event's row removed.
        ("DELETE FROM events WHERE idx = 2 AND batch_id = 3", .rowDeleted),
        // A row added to a batch.
        (
            """
            INSERT INTO events (batch_id, idx, agent_id, time_ns, observed_ns, received_ns, flags, host, source,
                                line, fields)
            SELECT batch_id, 7, agent_id, time_ns, observed_ns, received_ns, flags, host, source, line, fields
            FROM events WHERE batch_id = 1 AND idx = 0
            """, .rowInserted
        ),
        // One byte of a stored envelope's payload flipped.
        (
            "UPDATE batches SET envelope = set_byte(envelope, 100, get_byte(envelope, 100) # 1) WHERE id = 5",
            .batchMalformed
        ),
        // One byte of its signature flipped.
        (
            "UPDATE batches SET envelope = set_byte(envelope, length(envelope) - 1, get_byte(envelope, length(envelope) - 1) # 1) WHERE id = 4",
            .badSignature
        ),
        // The batch's hash column rewritten.
        ("UPDATE batches SET hash = sha256('other'::bytea) WHERE id = 7", .hashMismatch),
        // A whole batch removed with its rows.
        ("DELETE FROM events WHERE batch_id = 6; DELETE FROM batches WHERE id = 6", .batchDeleted),
        // A checkpoint's note replaced by one of another root.
        ("UPDATE checkpoints SET root_hash = '\\x00'::bytea", .checkpointMalformed),
        // The tail of a chain deleted, and covered up: the chain row, the log's leaves, nodes and size rewound.
        (
            "DELETE FROM events WHERE batch_id IN (7, 8); DELETE FROM merkle_leaves WHERE leaf_index >= 6; DELETE FROM merkle_nodes WHERE ((idx + 1) << level) > 6; DELETE FROM batches WHERE id IN (7, 8); UPDATE chains SET head_seq = 2, head_hash = (SELECT hash FROM batches WHERE id = 6), batches = 2, events = 6 WHERE agent_id = 2; UPDATE merkle_state SET size = 6",
            .checkpointInconsistent
        ),
        // A whole agent deleted, with its chains, keys and leaves.
        (
            "DELETE FROM events WHERE agent_id = 1; DELETE FROM merkle_leaves WHERE batch_id <= 4; DELETE FROM batches WHERE agent_id = 1; DELETE FROM chains WHERE agent_id = 1; DELETE FROM handshakes WHERE agent_id = 1; DELETE FROM agent_keys WHERE agent_id = 1; DELETE FROM agents WHERE id = 1",
            .checkpointInconsistent
        ),
        // Two batches' envelopes swapped.
        (
            "UPDATE batches SET envelope = CASE id WHEN 1 THEN (SELECT envelope FROM batches WHERE id = 2) ELSE (SELECT envelope FROM batches WHERE id = 1) END WHERE id IN (1, 2)",
            .hashMismatch
        ),
        // An agent's key replaced by another.
        (
            "UPDATE agents SET public_key = sha256('impostor'::bytea), key_id = sha256('impostor id'::bytea) WHERE name = 'ws-verify-1'",
            .unknownKey
        ),
        // The same edit is itself named: the enrolled key is not the history's current one.
        (
            "UPDATE agents SET public_key = sha256('impostor'::bytea), key_id = sha256('impostor id'::bytea) WHERE name = 'ws-verify-1'",
            .agentKeyAltered
        ),
        // An agent marked revoked before its batches were received.
        ("UPDATE agents SET revoked_ns = 2 WHERE name = 'ws-verify-2'", .keyNotValidAtReceipt),
        // An interior node of the log rewritten.
        ("UPDATE merkle_nodes SET hash = decode(repeat('00', 32), 'hex') WHERE level = 1 AND idx = 1", .treeMismatch),
        // Two leaves swapped.
        (
            "UPDATE merkle_leaves SET batch_id = -batch_id WHERE leaf_index IN (0, 1); UPDATE merkle_leaves SET batch_id = CASE batch_id WHEN -1 THEN 2 ELSE 1 END WHERE leaf_index IN (0, 1)",
            .leafMismatch
        ),
    ]

    @Test(arguments: Self.edits)
    func anInsiderEditIsFound(_ edit: (sql: String, kind: VerifyFinding.Kind)) async throws {
        let (tamper, kind) = edit
        let report = try await self.findings(after: tamper)
        #expect(report.findings.contains { $0.kind == kind }, "\(report.findings.map { "\($0.kind): \($0.detail)" })")
    }

    /// A checkpoint signed by another key slipped into the table; and the checkpoints deleted, found once the leaves
    /// have waited longer than the grace period for one; and an off-site checkpoint (`--checkpoints FILE`) of a
    /// tree the store no longer gives.
    @Test func forgedMissingAndExternalCheckpoints() async throws {
        let forger = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        let forged = try forger.sign(Checkpoint(origin: forger.verifier.name, size: 3, rootHash: .zero))
        let escaped = forged.note.replacingOccurrences(of: "'", with: "''")
        let inserted = try await self.findings(
            after: "INSERT INTO checkpoints (tree_size, root_hash, signed_ns, origin, note) VALUES "
                + "(3, decode(repeat('00', 32), 'hex'), 0, '\(forged.checkpoint.origin)', '\(escaped)')"
        )
        #expect(inserted.findings.map(\.kind) == [.checkpointBadSignature], "\(inserted.findings)")
        let missing = try await self.findings(after: "DELETE FROM checkpoints", later: 3_600_000_000_000)
        #expect(missing.findings.map(\.kind) == [.checkpointMissing], "\(missing.findings)")
        #expect(try await self.findings(after: "DELETE FROM checkpoints").isClean, "within the grace period")
        // An off-site checkpoint of 8 leaves, then the last batch and its leaf deleted with the stored checkpoint.
        let rewound = try await self.findings(
            after: "DELETE FROM checkpoints; DELETE FROM events WHERE batch_id = 8; "
                + "DELETE FROM merkle_leaves WHERE leaf_index = 7; DELETE FROM merkle_nodes WHERE ((idx + 1) << level) > 7; "
                + "DELETE FROM batches WHERE id = 8; UPDATE chains SET head_seq = 3, "
                + "head_hash = (SELECT hash FROM batches WHERE id = 7), batches = 3, events = 9 WHERE agent_id = 2; "
                + "UPDATE merkle_state SET size = 7",
            external: { signer, store in
                // What the site key signed for the whole tree before the edit, kept off-site.
                [try #require(try await store.makeCheckpoint(signer: signer, atNanos: nowNanos()))]
            }
        )
        #expect(rewound.findings.contains { $0.kind == .checkpointInconsistent && $0.detail.contains("external") })
    }

    /// `query --store` (a process) records itself in the store's audit trail; the trail refuses an UPDATE, and a row
    /// changed behind the trigger's back breaks the chain `verify` checks.
    @Test func aQueryIsAuditedAndAnEditedAuditRowIsFound() async throws {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        defer { store.close() }
        let agent = TestAgent(name: "ws-audit")
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        try await agent.ingest(try agent.chain(2), into: store)
        for user in ["mchen", "nobody-at-all"] {
            let query = try await Subprocess.runAsync(
                try Executables.path("flightlog"),
                ["query", "--store", database.location.description, "--user", user, "--count"]
            )
            #expect(query.status == (user == "mchen" ? 0 : 1), "\(query.stderr)")
        }
        let entries = try await store.auditEntries()
        #expect(entries.map(\.command) == ["query", "query"])
        #expect(entries.map(\.resultCount) == [10, 0])
        #expect(entries.map(\.outcome) == ["ok", "no match"])
        #expect(entries[1].arguments.contains("nobody-at-all"))
        let clean = try await store.verify(VerifyOptions(verifier: nil, nowNanos: nowNanos()))
        #expect(!clean.findings.contains { $0.kind == .auditChain })
        await #expect(throws: (any Error).self) {
            try await database.execute("UPDATE audit SET who = 'someone else' WHERE id = 1")
        }
        try await database.execute(
            "ALTER TABLE audit DISABLE TRIGGER audit_append_only; UPDATE audit SET result_count = 0 WHERE id = 1"
        )
        let edited = try await store.verify(VerifyOptions(verifier: nil, nowNanos: nowNanos()))
        #expect(edited.findings.contains { $0.kind == .auditChain && $0.rowID == 1 }, "\(edited.findings)")
        await database.drop()
    }

    /// A key of small order enrolled by an earlier release (anyone can sign for it, PROTOCOL.md §1.1): named as
    /// `forgeable_key`, and each batch stored under it as a `bad_signature` that proves nothing, as the SQLite
    /// store's checker names them (ForgeableKeyTests), not as an altered or unknown key.
    @Test func aForgeableKeyEnrolledEarlierIsNamedAsOnSQLite() async throws {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        let forger = TestAgent(name: "ws-forged")
        try await store.enroll(name: forger.name, publicKeyBase64: forger.publicKeyBase64, atNanos: 1)
        let agentID = try #require(try await store.agent(publicKey: forger.publicKey)).id
        let identity = "decode('01' || repeat('00', 31), 'hex')"
        try await database.execute(
            "UPDATE agents SET public_key = \(identity), key_id = sha256(\(identity)) WHERE id = \(agentID); "
                + "UPDATE agent_keys SET public_key = \(identity), key_id = sha256(\(identity)) "
                + "WHERE agent_id = \(agentID)"
        )
        for batch in try ForgeableKey.forgedChain(forger, count: 2) {
            let item = IngestItem(
                agentID: agentID,
                batch: batch,
                layout: try batch.decodeLayout(),
                receivedNanos: nowNanos()
            )
            #expect(try await store.ingest([item]) == [.stored])
        }
        let report = try await store.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        store.close()
        await database.drop()
        let described = report.findings.map { "\($0.kind): \($0.detail)" }
        let forgeable = report.findings.filter { $0.kind == .forgeableKey }
        #expect(forgeable.count == 1, "\(described)")
        #expect(forgeable.first?.agent == "ws-forged")
        #expect(forgeable.first?.detail.contains("small order") == true, "\(described)")
        let signatures = report.findings.filter { $0.kind == .badSignature }
        #expect(signatures.map(\.sequence) == [1, 2], "\(described)")
        #expect(signatures.allSatisfy { $0.detail.contains("proves nothing") }, "\(described)")
        #expect(!report.findings.contains { $0.kind == .agentKeyAltered || $0.kind == .unknownKey }, "\(described)")
    }
}

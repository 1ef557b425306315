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
    /// A store with two agents' chains and a signed checkpoint; `tamper` is then run on it, as SQL.
    private func findings(after tamper: String?) async throws -> VerifyReport {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        for name in ["ws-verify-1", "ws-verify-2"] {
            let agent = TestAgent(name: name)
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await agent.ingest(try agent.chain(4, eventsPerBatch: 3), into: store)
        }
        let signer = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        _ = try await store.makeCheckpoint(signer: signer, atNanos: nowNanos(), onlyWhenGrown: false)
        if let tamper { try await database.execute(tamper) }
        let report = try await store.verify(
            VerifyOptions(mode: .full, verifier: signer.verifier, nowNanos: nowNanos())
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

    @Test(
        arguments: [
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
                "UPDATE batches SET envelope = set_byte(envelope, length(envelope) - 1, "
                    + "get_byte(envelope, length(envelope) - 1) # 1) WHERE id = 4", .badSignature
            ),
            // The batch's hash column rewritten.
            ("UPDATE batches SET hash = sha256('other'::bytea) WHERE id = 7", .hashMismatch),
            // A whole batch removed with its rows.
            ("DELETE FROM events WHERE batch_id = 6; DELETE FROM batches WHERE id = 6", .batchDeleted),
            // A checkpoint's note replaced by one of another root.
            ("UPDATE checkpoints SET root_hash = '\\x00'::bytea", .checkpointMalformed),
        ]
    )
    func anInsiderEditIsFound(_ tamper: String, _ kind: VerifyFinding.Kind) async throws {
        let report = try await self.findings(after: tamper)
        #expect(report.findings.contains { $0.kind == kind }, "\(report.findings.map { "\($0.kind): \($0.detail)" })")
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
}

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

/// Key rotation (PROTOCOL.md §4.12) on PostgreSQL: the SQLite store's checks, the new key's chain taken as the
/// old one's continuation (no `new_epoch` finding), `verify` clean across both keys, and `copy-store` carrying the
/// rotation over with the same findings as its source.
@Suite("PostgreSQL: key rotation")
struct PostgresRotationTests {
    /// The rotation record handing `old`'s chain (head `head`, epoch 1) to `new` in epoch 2, signed by both.
    private func record(from old: TestAgent, to new: TestAgent, head: SignedBatch) throws -> RotationRecord {
        var record = RotationRecord(
            oldPublicKey: old.publicKey,
            oldEpoch: 1,
            oldHeadSequence: head.sequence,
            oldHeadHash: head.hash,
            newPublicKey: new.publicKey,
            newEpoch: 2,
            timeNanos: nowNanos()
        )
        record.oldSignature = Array(try old.key.signature(for: record.message))
        record.newSignature = Array(try new.key.signature(for: record.message))
        return record
    }

    @Test func aRotatedAgentGoesOnUnderItsNewKeyAndVerifiesClean() async throws {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        defer { store.close() }
        let old = TestAgent(name: "ws-rotate")
        let new = TestAgent(name: "ws-rotate", epoch: 2)
        try await store.enroll(name: old.name, publicKeyBase64: old.publicKeyBase64, atNanos: 1)
        let chain = try old.chain(3)
        try await old.ingest(chain, into: store)
        let stale = try self.record(from: old, to: new, head: chain[1])
        guard case .failure(let refusal) = try await store.rotate(stale, atNanos: nowNanos()) else {
            Issue.record("a record naming a stale head was accepted")
            return
        }
        #expect(refusal.reason.contains("ship every batch"), "\(refusal)")
        let record = try self.record(from: old, to: new, head: chain[2])
        guard case .success(let rotated) = try await store.rotate(record, atNanos: nowNanos()) else {
            Issue.record("the rotation was refused")
            return
        }
        #expect(rotated.publicKey == new.publicKey)
        // Sent again after a lost answer: accepted again, nothing changed.
        guard case .success = try await store.rotate(record, atNanos: nowNanos()) else {
            Issue.record("the same record was refused the second time")
            return
        }
        try await new.ingest(try new.chain(2), into: store)
        let findings = try await store.findings()
        #expect(findings.isEmpty, "\(findings)")
        #expect(try await store.rotations().map(\.agent) == [old.name])
        #expect(try await store.keyHolder(publicKey: old.publicKey)?.untilNanos != nil)
        let report = try await store.verify(VerifyOptions(verifier: nil, nowNanos: nowNanos()))
        #expect(report.isClean, "\(report.findings)")
        #expect(report.batchesChecked == 5)
        await database.drop()
    }

    @Test func copyStoreCarriesARotationOver() async throws {
        let database = try await PostgresTestDatabase.make()
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let sqlite = try Storage.open(path: scratch.file("flightlog.db"))
        let old = TestAgent(name: "ws-rotate-copy")
        let new = TestAgent(name: "ws-rotate-copy", epoch: 2)
        try await sqlite.enroll(name: old.name, publicKeyBase64: old.publicKeyBase64, atNanos: 1)
        let chain = try old.chain(2)
        try await old.ingest(chain, into: sqlite)
        guard
            case .success = try await sqlite.rotate(
                try self.record(from: old, to: new, head: chain[1]),
                atNanos: nowNanos()
            )
        else {
            Issue.record("the SQLite store refused the rotation")
            return
        }
        try await new.ingest(try new.chain(2), into: sqlite)
        let postgres = try await PostgresStore.open(database.location, node: "copy")
        defer { postgres.close() }
        _ = try await postgres.copy(
            from: sqlite,
            source: "test",
            checkpoints: [],
            rotations: try await sqlite.rotations()
        ) { _ in }
        #expect(try await postgres.findings().map(\.kind) == (try await sqlite.findings().map(\.kind)))
        #expect(try await postgres.treeRoot(size: 4) == (try await sqlite.treeRoot(size: 4)))
        #expect(try await postgres.rotations().count == 1)
        #expect(try await postgres.verify(VerifyOptions(verifier: nil, nowNanos: nowNanos())).isClean)
        await database.drop()
    }
}

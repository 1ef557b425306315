import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// Migrations are history: each must do on an old database what it did when it shipped.
@Suite("Schema migrations")
struct MigrationTests {
    /// Migration v2 introduced the transparency log on databases that already held batches: every stored batch
    /// becomes a leaf, in batch-id order, and the tree it builds is the RFC 6962 tree of those leaves.
    @Test func v2MakesEveryStoredBatchALeafInTheOrderItWasAccepted() async throws {
        let directory = NSTemporaryDirectory() + "flightlog-migration-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/old.db"
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: "v1 agents, chains, batches, events, findings, handshakes")

        // Seven batches of two agents, as a v1 aggregator stored them (ids interleaved between the agents).
        let keys = [Curve25519.Signing.PrivateKey(), Curve25519.Signing.PrivateKey()]
        let expected = try await queue.write { db in
            var expected: [Bytes32] = []
            for (index, key) in keys.enumerated() {
                try db.execute(
                    sql: "INSERT INTO agents (id, name, public_key, key_id, enrolled_ns) VALUES (?, ?, ?, ?, 1)",
                    arguments: [
                        index + 1, "ws-\(index)", key.publicKey.rawRepresentation,
                        Data(KeyID.of(key.publicKey).bytes),
                    ]
                )
            }
            for batch in 1...7 {
                let agent = batch % 2
                let hash = Bytes32(Array(SHA256.hash(data: [UInt8(batch)]))) ?? .zero
                // Epochs and sequences of 2^63 and above are stored with the same bits, as negative integers.
                let epoch: UInt64 = batch == 7 ? UInt64.max : 1
                let sequence = UInt64(batch)
                try db.execute(
                    sql: """
                        INSERT INTO batches (id, agent_id, epoch, seq, hash, prev_hash, created_ns, first_ns, last_ns,
                            event_count, received_ns, first_event_id, envelope)
                        VALUES (?, ?, ?, ?, ?, ?, 1, 1, 1, 0, ?, 0, x'00')
                        """,
                    arguments: [
                        batch, agent + 1, Int64(bitPattern: epoch), Int64(bitPattern: sequence), Data(hash.bytes),
                        Data(count: 32), 1_000 + batch,
                    ]
                )
                expected.append(
                    TransparencyLeaf(
                        keyID: KeyID.of(keys[agent].publicKey),
                        epoch: epoch,
                        sequence: sequence,
                        receivedNanos: Int64(1_000 + batch),
                        batchHash: hash
                    ).hash
                )
            }
            return expected
        }
        try queue.close()

        let store = try SQLiteStore(path: path)
        #expect(try await store.treeSize() == 7)
        #expect(try await store.treeRoot(size: 7) == MerkleTree.root(expected))
        #expect(try await store.treeRoot(size: 4) == MerkleTree.root(Array(expected.prefix(4))))
        let order = try await store.read { db in
            try Int64.fetchAll(db, sql: "SELECT batch_id FROM merkle_leaves ORDER BY leaf_index")
        }
        #expect(order == Array(1...7))
    }
}

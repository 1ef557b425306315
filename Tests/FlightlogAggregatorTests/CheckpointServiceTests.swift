import FlightlogAggregator
import FlightlogEvidence
import FlightlogTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

@testable import FlightlogStore

/// The service that signs checkpoints of the transparency log while `serve` runs.
@Suite struct CheckpointServiceTests {
    @Test func checkpointServiceSignsAfterTheLastCommit() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let agent = TestAgent(name: "ws-c")
        let signer = try AggregatorKeyFile.loadOrCreate(dir.file("k"))
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.file("k"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try AggregatorKeyFile.loadVerifier(dir.file("k.pub")) == signer.verifier)
        let store = try SQLiteStore(path: path)
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        var logger = Logger(label: "test.checkpoint")
        logger.logLevel = .warning
        let server = try await IngestServer(
            configuration: AggregatorConfiguration.loopback(),
            store: store,
            metrics: AggregatorMetrics(),
            logger: logger
        )
        let checkpoints = CheckpointService(store: store, signer: signer, intervalSeconds: 3600, logger: logger)
        let group = ServiceGroup(services: [checkpoints, server], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await agent.ship(try agent.chain(3), port: server.port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let stored = try await store.checkpoints()
        #expect(stored.last?.signed.checkpoint.size == 3)
        try stored.last?.signed.verify(signer.verifier)
        let proof = try #require(try await store.inclusionProof(batchID: 2, treeSize: 3))
        let root = try await store.treeRoot(size: 3)
        #expect(
            MerkleTree.verifyInclusion(
                leafHash: proof.leaf.hash,
                index: proof.leafIndex,
                size: 3,
                proof: proof.path,
                root: root
            )
        )
        #expect(root == stored.last?.signed.checkpoint.rootHash)
    }
}

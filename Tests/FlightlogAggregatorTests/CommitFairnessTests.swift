import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import GRDB
import NIOCore
import Testing

@testable import FlightlogStore

/// A flooding agent cannot keep another agent's batches out of the next group commit (issue 21: backpressure,
/// checked deterministically). Transactions take 4 batches here; the database is locked while agent A queues 12 and
/// agent B one, so that all 13 wait together.
@Suite struct CommitFairnessTests {
    @Test func aFloodingAgentCannotKeepAnotherOutOfTheNextCommit() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        var configuration = AggregatorConfiguration.loopback()
        configuration.maxBatchesPerCommit = 4
        let flooder = TestAgent(name: "ws-flood")
        let quiet = TestAgent(name: "ws-quiet")
        try await withServer(database: path, configuration: configuration) { port, store, metrics in
            for agent in [flooder, quiet] {
                try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            }
            let (flooding, _) = try await flooder.open(port: port)
            let (steady, _) = try await quiet.open(port: port)
            let floods = try flooder.chain(12)
            let mine = try quiet.chain(1)
            let blocker = try await WriteLockHolder(path)
            for batch in floods { try await flooding.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            try await eventually(seconds: 120) { metrics["batches_decoded"] == Int64(floods.count) }
            try await steady.send(.batch(ByteBuffer(bytes: mine[0].bytes)))
            try await eventually(seconds: 120) { metrics["batches_decoded"] == Int64(floods.count + 1) }
            try await blocker.release()
            try await expectStored(flooding, floods)
            try await expectStored(steady, mine)
            await flooding.close()
            await steady.close()
        }
        // The order the batches were stored in. The first transaction may have taken the flood's first batch alone
        // (it was waiting for the lock before the rest arrived); the quiet agent's batch is in the one after it.
        let order = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(
                db,
                sql: "SELECT a.name FROM batches b JOIN agents a ON a.id = b.agent_id ORDER BY b.id"
            )
        }
        let position = try #require(order.firstIndex(of: quiet.name))
        #expect(position < 1 + configuration.maxBatchesPerCommit, "stored order: \(order)")
    }
}

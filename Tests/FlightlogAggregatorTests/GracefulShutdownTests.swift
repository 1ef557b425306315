import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import FlightlogStore

@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    /// Batches received but not yet committed when the shutdown starts are still committed and acknowledged; then
    /// the server says goodbye, closes, and its `run()` returns.
    @Test func inFlightCommitsFinishAndAreAckedBeforeGoodbye() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let agent = TestAgent(name: "ws-shutdown")
        // The first commit waits for the lock the test holds until every batch is read: on a loaded machine reading
        // them took longer than the 30 s a commit normally waits (CI, 2026-12-07: the commit failed, the session
        // closed, and the batches after it were never read), so this store waits as long as the test does.
        let store = try SQLiteStore(path: path, fullTextBusyTimeout: 30, busyTimeout: 600)
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        var logger = Logger(label: "test.shutdown")
        logger.logLevel = .warning
        let metrics = AggregatorMetrics()
        let server = try await IngestServer(
            configuration: AggregatorConfiguration.loopback(),
            store: store,
            metrics: metrics,
            logger: logger
        )
        let group = ServiceGroup(services: [server], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let (connection, _) = try await agent.open(port: server.port)

            // Hold the write lock so that the batches are verified and queued, but cannot commit yet.
            let blocker = try await WriteLockHolder(path)
            let batches = try agent.chain(10)
            for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            // A generous deadline: on a loaded CI machine this took over a minute once.
            try await eventually(seconds: 300) {
                metrics["bytes_received"] >= Int64(batches.reduce(0) { $0 + $1.bytes.count })
            }

            await group.triggerGracefulShutdown()
            try await blocker.release()

            try await expectStored(connection, batches)
            #expect(try await connection.receiveSkippingHeartbeats() == .goodbye(Goodbye(message: "closing")))
            try await connection.waitClosed()
            try await tasks.waitForAll()
        }
        let reader = try SQLiteStore(readOnlyPath: path)
        #expect(try await reader.counts().batches == 10)
    }
}

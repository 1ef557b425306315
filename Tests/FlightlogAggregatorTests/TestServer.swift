import FlightlogAggregator
import Logging
import ServiceLifecycle

@testable import FlightlogStore

extension AggregatorConfiguration {
    /// Loopback, a free port, and a handshake deadline no test runs into by accident. The test process runs every
    /// test at once on a two-core machine; a test's client task can wait seconds for a thread while synchronous
    /// tests hold them, and the default 10 s deadline once closed a handshake in CI before the client sent its
    /// PROOF ("I/O on closed channel"). Tests of the deadline set their own.
    static func loopback() -> AggregatorConfiguration {
        AggregatorConfiguration(host: "127.0.0.1", port: 0, handshakeTimeoutSeconds: 600)
    }
}

/// Runs a real `IngestServer` on an ephemeral loopback port over a real SQLite file for the duration of `body`,
/// then shuts it down gracefully. The store it opens waits up to 600 s for a lock instead of 30: tests hold the write
/// lock (`WriteLockHolder`) while batches queue, and on a loaded machine the queueing once outlasted 30 s (the first
/// commit then failed and closed the session the test was watching). `store`: one opened by the caller on `database` (with its own settings); `serving`:
/// what the server stores through, given the SQLite store (a fault injected in front of it).
func withServer<T: Sendable>(
    database: String,
    store: SQLiteStore? = nil,
    serving: (SQLiteStore) -> any EvidenceStore = { $0 },
    configuration: AggregatorConfiguration = .loopback(),
    _ body: @Sendable (_ port: Int, _ store: SQLiteStore, _ metrics: AggregatorMetrics) async throws -> T
) async throws -> T {
    let store = try store ?? SQLiteStore(path: database, fullTextBusyTimeout: 30, busyTimeout: 600)
    var logger = Logger(label: "test.server")
    logger.logLevel = .warning
    let metrics = AggregatorMetrics()
    let server = try await IngestServer(
        configuration: configuration,
        store: serving(store),
        metrics: metrics,
        logger: logger
    )
    let group = ServiceGroup(services: [server], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body(server.port, store, metrics)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

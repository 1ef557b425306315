import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import NIOCore
import Testing

@testable import FlightlogStore

/// The full-text indexer as `serve` runs it: alongside the commits, its progress in the server's metrics, and
/// retried after a failure while batches go on being stored and acknowledged. (What the index holds and how `verify`
/// checks it: `FullTextIndexTests` in the store's tests.)
@Suite struct ServerIndexingTests {
    @Test func theServerIndexesAsItCommitsAndReportsTheLag() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ft-serve")
        try await withServer(database: dir.file("db.sqlite")) { port, store, metrics in
            _ = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let (connection, _) = try await agent.open(port: port)
            let batches = try agent.chain(4)
            for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            for _ in batches { _ = try await connection.receiveSkippingHeartbeats() }
            try await eventually {
                metrics["fts_indexed_through"] == 20 && metrics["fts_lag_events"] == 0
                    && metrics["fts_attrs_lag_events"] == 0
            }
            #expect(try await store.counts().fullText == 20)
            await connection.close()
        }
    }

    /// A failed indexing transaction (here another connection holds the full-text file's write lock past the
    /// indexer's busy timeout: a full disk or an I/O error fail the same way) is retried until it succeeds, while
    /// batches keep being stored and acknowledged. The indexer used to stop at the first error until `serve` was
    /// restarted.
    @Test func theServerRetriesAFailedIndexingTransactionAndKeepsAcknowledging() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path, fullTextBusyTimeout: 0.05)
        let lock = try await WriteLockHolder(FullTextLayout.path(for: path, file: 0))
        let agent = TestAgent(name: "ft-retry")
        try await withServer(database: path, store: store) { port, store, metrics in
            _ = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let (connection, _) = try await agent.open(port: port)
            let batches = try agent.chain(4)
            for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            try await expectStored(connection, batches)
            try await eventually { metrics["fts_indexer_failing"] == 1 && metrics["fts_errors"] >= 1 }
            #expect(metrics["fts_indexed_through"] == 0)

            try await lock.release()
            // The next attempt (1 s after the first failure, then 2 s, ...) indexes everything.
            try await eventually {
                metrics["fts_indexer_failing"] == 0 && metrics["fts_indexed_through"] == 20
                    && metrics["fts_lag_events"] == 0
            }
            #expect(try await store.counts().fullText == 20)
            await connection.close()
        }
        try await self.expectIndexedAndClean(store)
    }

    /// `verify` finds nothing wrong with the full-text indexes, and they trail the commit by nothing.
    private func expectIndexedAndClean(
        _ store: SQLiteStore,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let report = try await store.verify(VerifyOptions(verifier: nil, nowNanos: 1))
        #expect(
            report.findings.filter { $0.kind == .ftsMismatch || $0.kind == .ftsOrphan }.isEmpty,
            sourceLocation: sourceLocation
        )
        #expect(report.fullTextLag == 0, sourceLocation: sourceLocation)
    }
}

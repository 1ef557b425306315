import Crypto
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// A database edited by whoever can write its files (issue: arithmetic audit, RELIABILITY.md): values no release
/// writes (ids at the end of i64, text in integer columns, a JSON array for fields, a hostile index watermark) give
/// errors and findings, never a trapped process.
@Suite("A database holding what no release writes")
struct HostileDatabaseTests {
    let dir: TempDirectory
    let path: String
    let agent = TestAgent(name: "ws-db")

    init() throws {
        self.dir = try TempDirectory()
        self.path = self.dir.file("db.sqlite")
    }

    /// Enrols the agent and stores `count` batches of its chain through the store (no server, no indexer).
    private func stored(_ count: Int) async throws -> SQLiteStore {
        let store = try SQLiteStore(path: self.path)
        let record = try await store.enroll(
            name: self.agent.name,
            publicKeyBase64: self.agent.publicKeyBase64,
            atNanos: 1
        )
        for batch in try self.agent.chain(count, eventsPerBatch: 3) {
            let outcomes = try await store.ingest([
                try IngestItem(
                    agentID: record.id,
                    batch: batch,
                    events: try batch.decodeEvents(),
                    receivedNanos: nowNanos()
                )
            ])
            #expect(outcomes == [.stored])
        }
        return store
    }

    private func tamper(_ sql: String, file: String? = nil) throws {
        let queue = try DatabaseQueue(path: file ?? self.path)
        try queue.write { db in try db.execute(sql: sql) }
    }

    @Test func anEventIDAtTheEndOfI64RefusesTheNextBatchInsteadOfTrapping() async throws {
        defer { self.dir.cleanup() }
        let store = try await self.stored(1)
        try self.tamper("UPDATE events SET id = 9223372036854775800 WHERE id = 3")
        let next = try self.agent.batch(
            sequence: 2,
            previous: try self.agent.chain(1, eventsPerBatch: 3)[0].hash,
            events: self.agent.events(30, prefix: "after")
        )
        let agentID = try #require(try await store.agent(publicKey: self.agent.publicKey)?.id)
        await #expect(throws: StoreError.self) {
            _ = try await store.ingest([
                try IngestItem(
                    agentID: agentID,
                    batch: next,
                    events: try next.decodeEvents(),
                    receivedNanos: nowNanos()
                )
            ])
        }
        // verify reads the same ids and reports them.
        let report = try await store.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        #expect(report.findings.contains { $0.kind == .rowInserted || $0.kind == .rowDeleted }, "\(report.findings)")
    }

    @Test func aFieldsColumnHoldingAJSONArrayOrNumbersIsIndexedWithoutStopping() async throws {
        defer { self.dir.cleanup() }
        let store = try await self.stored(1)
        try self.tamper("UPDATE events SET fields = '[1, 2, 3]' WHERE id = 1")
        try self.tamper("UPDATE events SET fields = '{\"user\": 5, \"pid\": 1.5}' WHERE id = 2")
        try await store.drainFullTextIndex()
        let report = try await store.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        #expect(report.findings.filter { $0.kind == .rowEdited }.map(\.rowID) == [1, 2], "\(report.findings)")
    }

    @Test(arguments: ["-9223372036854775808", "9223372036854775807", "'text'"])
    func anIndexWatermarkOfAnyValueOpensAndVerifies(_ watermark: String) async throws {
        defer { self.dir.cleanup() }
        let store = try await self.stored(1)
        try await store.drainFullTextIndex()
        for file in 0..<FullTextLayout.fileCount {
            try self.tamper(
                "UPDATE fts_progress SET indexed_through = \(watermark)",
                file: FullTextLayout.path(for: self.path, file: file)
            )
        }
        let reopened = try SQLiteStore(path: self.path, onDamagedIndex: .leaveOut)
        _ = try await reopened.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        _ = try await reopened.counts()
    }

    @Test func anAuditTrailAtTheEndOfI64RefusesTheNextRecordAndVerifyReportsEditedTypes() async throws {
        defer { self.dir.cleanup() }
        _ = try await self.stored(1)
        let entry = AuditEntry(
            atNanos: nowNanos(),
            who: "investigator",
            command: "query",
            arguments: ["--user", "mchen"],
            resultCount: 1,
            outcome: "ok"
        )
        _ = try AuditTrail.record(entry, databasePath: self.path)
        // The insider drops the append-only trigger first, as anyone who can write the file can.
        try self.tamper("DROP TRIGGER audit_no_update")
        try self.tamper("UPDATE audit SET at_ns = 'noon' WHERE id = 1")
        let store = try SQLiteStore(path: self.path)
        let verification = try store.verifyAuditTrail()
        #expect(verification.problems.map(\.detail).contains { $0.contains("not of its column's type") })
        try self.tamper("UPDATE audit SET id = 9223372036854775807 WHERE id = 1")
        #expect(throws: StoreError.self) { _ = try AuditTrail.record(entry, databasePath: self.path) }
    }
}

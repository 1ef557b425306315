import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogStore

@Suite("Audit trail")
struct AuditTrailTests {
    @Test func everyCommandIsRecordedAndTheChainVerifies() async throws {
        let fixture = try await IncidentFixture.make()
        defer { fixture.cleanup() }
        _ = try fixture.cli("query", "--user", "mchen", "--format", "jsonl")
        _ = try fixture.cli("query", "--user", "nobody")
        _ = try fixture.cli("timeline", "--host", "cc-ws-611")
        _ = try fixture.cli("query", "--since", "garbage-in-run")
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        let entries = try store.auditEntries()
        #expect(entries.map(\.command) == ["query", "query", "timeline"])
        #expect(entries.map(\.resultCount) == [8, 0, 4])
        #expect(entries.map(\.outcome) == ["ok", "no match", "ok"])
        #expect(entries[0].who.hasPrefix("investigator-test (uid "))
        #expect(entries[0].arguments.contains("mchen"))
        let verification = try store.verifyAuditTrail()
        #expect(verification.isIntact)
        #expect(verification.rows == 3)
        #expect(verification.headHash == entries.last.map { $0.hash.map { String(format: "%02x", $0) }.joined() })
    }

    @Test func editsAreRefusedAndForcedEditsDetected() async throws {
        let fixture = try await IncidentFixture.make()
        defer { fixture.cleanup() }
        for user in ["mchen", "tpatel", "root"] { _ = try fixture.cli("query", "--user", user) }
        // The triggers refuse a plain edit…
        #expect(throws: (any Error).self) {
            try SQLiteShell.execute(fixture.database, "UPDATE audit SET result_count = 0 WHERE id = 2")
        }
        // …and an intruder who drops them is caught by the hash chain.
        try SQLiteShell.execute(
            fixture.database,
            """
            DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
            UPDATE audit SET result_count = 0 WHERE id = 2;
            """
        )
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        let edited = try store.verifyAuditTrail()
        #expect(!edited.isIntact)
        #expect(edited.problems.map(\.id) == [2])

        try SQLiteShell.execute(fixture.database, "DELETE FROM audit WHERE id = 2")
        let deleted = try store.verifyAuditTrail()
        #expect(deleted.problems.map(\.id).contains(3))
    }
}

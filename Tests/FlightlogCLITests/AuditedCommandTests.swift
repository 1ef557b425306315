import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogStore

/// Every investigator command run as a process leaves a row in the audit trail, chained to the one before.
@Suite("Audit trail of the investigator commands")
struct AuditedCommandTests {
    @Test func everyCommandIsRecordedAndTheChainVerifies() async throws {
        let fixture = try await IncidentFixture.make()
        defer { fixture.cleanup() }
        _ = try await fixture.cli("query", "--user", "mchen", "--format", "jsonl")
        _ = try await fixture.cli("query", "--user", "nobody")
        _ = try await fixture.cli("timeline", "--host", "cc-ws-611")
        _ = try await fixture.cli("query", "--since", "garbage-in-run")
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
}

import FlightlogStoreTestSupport
import FlightlogTestSupport
import Testing

@testable import FlightlogStore

/// The audit trail is append-only: its triggers refuse an edit, and an edit made around them breaks its hash chain.
@Suite("Audit trail")
struct AuditTrailTests {
    @Test func editsAreRefusedAndForcedEditsDetected() async throws {
        let directory = try TempDirectory()
        defer { directory.cleanup() }
        let database = directory.file("flightlog.db")
        _ = try SQLiteStore(path: database)
        // What three `flightlog query --user` commands record.
        for (user, count) in [("mchen", 8), ("tpatel", 4), ("root", 1)] as [(String, Int64)] {
            let entry = AuditEntry(
                atNanos: nowNanos(),
                who: "investigator-test",
                command: "query",
                arguments: ["--db", database, "--user", user],
                resultCount: count,
                outcome: "ok"
            )
            _ = try AuditTrail.record(entry, databasePath: database)
        }
        // The triggers refuse a plain edit…
        #expect(throws: (any Error).self) {
            try SQLiteShell.execute(database, "UPDATE audit SET result_count = 0 WHERE id = 2")
        }
        // …and an intruder who drops them is caught by the hash chain.
        try SQLiteShell.execute(
            database,
            """
            DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
            UPDATE audit SET result_count = 0 WHERE id = 2;
            """
        )
        let store = try SQLiteStore(readOnlyPath: database)
        let edited = try store.verifyAuditTrail()
        #expect(!edited.isIntact)
        #expect(edited.problems.map(\.id) == [2])

        try SQLiteShell.execute(database, "DELETE FROM audit WHERE id = 2")
        let deleted = try store.verifyAuditTrail()
        #expect(deleted.problems.map(\.id).contains(3))
    }
}

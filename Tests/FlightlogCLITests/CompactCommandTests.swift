import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// `flightlog compact` as an operator runs it on a store whose rows hold their lines in clear.
@Suite("flightlog compact")
struct CompactCommandTests {
    @Test func emptiesRowsInClearReportsAnEditedOneAndIsAudited() async throws {
        let fixture = try await EvidenceFixture.make()
        defer { fixture.dir.cleanup() }
        // The rows as a store written before 2026-12-07 holds them, one of them edited since.
        try fixture.tamper(
            "UPDATE events SET line = event_line(line, batch_id, idx), fields = event_fields(fields, batch_id, idx)"
        )
        try fixture.tamper("UPDATE events SET line = CAST('nothing happened' AS BLOB) WHERE id = 3")
        let before = try await FlightlogCLI.run(["query", "--db", fixture.path, "--format", "jsonl", "--limit", "100"])

        let run = try await FlightlogCLI.run(["compact", "--db", fixture.path, "--rows", "7"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.contains("compact: 39 rows now read their line and fields from their signed batch"))
        #expect(run.stdout.contains("1 row still holds a line or fields that differ from the batch"))
        #expect(run.stdout.contains("through event 40 of 40"))
        let after = try await FlightlogCLI.run(["query", "--db", fixture.path, "--format", "jsonl", "--limit", "100"])
        #expect(after.stdout == before.stdout)
        #expect(after.stdout.contains("nothing happened"))
        let entry = try #require(
            try SQLiteStore(readOnlyPath: fixture.path).auditEntries().last { $0.command == "compact" }
        )
        #expect(entry.resultCount == 39)

        let again = try await FlightlogCLI.run(["compact", "--db", fixture.path])
        #expect(again.status == 1)
        #expect(again.stdout.contains("compact: 0 rows now read"))

        let missing = try await FlightlogCLI.run(["compact", "--db", fixture.dir.file("nope.db")])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no such file"))
        let bad = try await FlightlogCLI.run(["compact", "--db", fixture.path, "--rows", "0"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--rows must be between 1 and 1000000"))
    }
}

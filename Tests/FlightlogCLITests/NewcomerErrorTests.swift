import FlightlogTestSupport
import Foundation
import Testing

/// The errors a newcomer meets first say what to do next (issue 27): a database path that is not there, a rule folder
/// with no rules.
@Suite struct NewcomerErrorTests {
    @Test(arguments: ["query", "timeline", "agents", "stats"])
    func aMissingDatabaseSaysWhereTheRightOneComesFrom(_ command: String) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let result = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            [command, "--db", dir.file("nothere.db")]
        )
        #expect(result.status == 2)
        #expect(result.stderr.contains("nothere.db: no such file (pass --db with the file `flightlog serve` writes"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("nothere.db")), "a read-only command creates nothing")
    }

    @Test func aRuleFolderWithoutRulesIsNotNothingMatched() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let key = try await Subprocess.runAsync(
            try Executables.path("flightlog-agent"),
            ["keygen", "--key", dir.file("k")]
        )
        let enrolled = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            [
                "enroll", "--db", dir.file("f.db"), "--name", "x", "--public-key",
                key.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
            ]
        )
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        try FileManager.default.createDirectory(atPath: dir.file("rules"), withIntermediateDirectories: true)
        let hunt = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["hunt", "--db", dir.file("f.db"), "--rules", dir.file("rules")]
        )
        #expect(hunt.status == 2, "not 1, which would read as 'nothing matched'")
        #expect(hunt.stderr.contains("no Sigma rule (*.yml, *.yaml)") && hunt.stderr.contains("pass --rules PATH"))
    }
}

import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@Suite("flightlog verify --bundle")
struct VerifyBundleCommandTests {
    private func export(_ fixture: IncidentFixture) async throws -> String {
        let out = fixture.directory.file("bundle-" + UUID().uuidString)
        let result = try await fixture.cli("export", "--user", "mchen", "--since", "2026-11-24", "--out", out)
        #expect(result.status == 0, "\(result.stderr)")
        return out
    }

    @Test func checksABundleWithoutADatabase() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let trusted = fixture.aggregatorKey + ".pub"

        let plain = try await FlightlogCLI.run(["verify", "--bundle", bundle])
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.hasPrefix("OK: "), "\(plain.stdout)")
        #expect(plain.stdout.contains("2 inclusion proofs against checkpoint tree size 5"), "\(plain.stdout)")
        #expect(plain.stdout.contains("pass --aggregator-key"), "\(plain.stdout)")

        let withKey = try await FlightlogCLI.run(["verify", "--bundle", bundle, "--aggregator-key", trusted])
        #expect(withKey.status == 0, "\(withKey.stdout)")
        #expect(withKey.stdout.contains("(the trusted --aggregator-key)"), "\(withKey.stdout)")

        let json = try await FlightlogCLI.run([
            "verify", "--bundle", bundle, "--aggregator-key", trusted, "--format", "json",
        ])
        #expect(json.status == 0)
        let object = try jsonObject(json.stdout)
        #expect(object["valid"] as? Bool == true)
        #expect(object["proofs"] as? Int == 2)
        #expect(object["key_trusted"] as? Bool == true)

        // The first spelling keeps working, with the same options.
        #expect(try await FlightlogCLI.run(["verify-bundle", bundle]).status == 0)
        #expect(try await FlightlogCLI.run(["verify-bundle", bundle, "--aggregator-key", trusted]).status == 0)
    }

    @Test func aKeyOtherThanTheBundlesFails() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let otherKey = fixture.directory.file("other-\(UUID().uuidString).key")
        _ = try AggregatorKeyFile.loadOrCreate(otherKey)
        for command in [["verify", "--bundle", bundle], ["verify-bundle", bundle]] {
            let result = try await FlightlogCLI.run(command + ["--aggregator-key", otherKey + ".pub"])
            #expect(result.status == 1, "\(command): \(result.stdout)")
            #expect(result.stdout.contains("FAIL checkpoint.txt: not signed by the trusted aggregator key"))
            #expect(result.stdout.contains("FAILED: "))
        }
    }

    /// A bundle is input from whoever handed it over: a receipt time past the range of an i64 of nanoseconds (year
    /// 3000) stopped `verify --bundle` before any signature was checked; now the line is a problem in the report.
    @Test func aReceiptTimePastTheRangeOfI64IsAProblemNotACrash() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let events = String(decoding: try BundleFiles.read(bundle, "events.jsonl"), as: UTF8.self)
        let edited = events.replacing(/"received":"[^"]*"/, with: #""received":"3000-01-01T00:00:00Z""#)
        #expect(edited != events)
        try BundleFiles.replace(bundle, "events.jsonl", with: Data(edited.utf8))
        let result = try await FlightlogCLI.run(["verify", "--bundle", bundle])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("not an exported event object"), "\(result.stdout)")
    }

    @Test(arguments: [
        ["--db", "flightlog.db"], ["--incremental"], ["--history"], ["--agent", "cc-ws-602"], ["--since", "24h"],
        ["--deep"],
    ])
    func databaseOptionsWithABundleAreAUsageError(extra: [String]) async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let result = try await FlightlogCLI.run(["verify", "--bundle", bundle] + extra)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--bundle checks an exported bundle without a database"), "\(result.stderr)")
        #expect(result.stderr.contains(extra[0]), "\(result.stderr)")
    }

    @Test func unreadableInputsExitTwo() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let nowhere = fixture.directory.file("no-such-\(UUID().uuidString)")
        let missing = try await FlightlogCLI.run(["verify", "--bundle", nowhere])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no bundle directory at \(nowhere)"), "\(missing.stderr)")
        #expect(missing.stdout.isEmpty, "no report for a bundle that is not there")
        #expect(try await FlightlogCLI.run(["verify", "--bundle", bundle, "--aggregator-key", nowhere]).status == 2)
        #expect(try await FlightlogCLI.run(["verify", "--bundle", bundle, "--checkpoints", nowhere]).status == 2)
    }

    @Test func helpShowsTheBundleSpelling() async throws {
        let help = try await FlightlogCLI.run(["verify", "--help"])
        #expect(help.stdout.contains("--bundle <dir>"), "\(help.stdout)")
        #expect(help.stdout.contains("flightlog verify --bundle case-4711/ --aggregator-key"), "\(help.stdout)")
        let root = try await FlightlogCLI.run(["--help"])
        #expect(root.stdout.contains("flightlog verify --bundle case-4711/"), "\(root.stdout)")
    }
}

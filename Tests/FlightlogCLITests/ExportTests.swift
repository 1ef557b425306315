import Crypto
import FlightlogEvidence
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@Suite("flightlog export and verify-bundle")
struct ExportTests {
    private func export(_ fixture: IncidentFixture, _ arguments: String...) async throws -> String {
        let out = fixture.directory.file("bundle-" + UUID().uuidString)
        let result = try await fixture.cli("export", arguments: arguments + ["--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("manifest.json sha256"))
        return out
    }

    @Test func freshBundleVerifies() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture, "--user", "mchen", "--since", "2026-11-24")
        let files = try FileManager.default.contentsOfDirectory(atPath: bundle).sorted()
        #expect(
            files == [
                "README.txt", "aggregator.pub", "batches", "checkpoint.txt", "events.jsonl", "keys.json",
                "manifest.json", "report.html",
            ]
        )
        #expect(try FileManager.default.contentsOfDirectory(atPath: bundle + "/batches").count == 2)
        let report = BundleVerifier.verify(directory: bundle)
        #expect(report.isValid, "\(report.problems)")
        #expect(report.events == 5)
        #expect(report.batches == 2)
        #expect(report.proofs == 2)
        let cli = try await FlightlogCLI.run(["verify-bundle", bundle])
        #expect(cli.status == 0, "\(cli.stdout)")
    }

    @Test func bundleWithNonUTF8LineVerifies() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture, "--host", "cc-ws-602")
        let report = BundleVerifier.verify(directory: bundle)
        #expect(report.isValid, "\(report.problems)")
        #expect(report.events == 9)
    }

    @Test func flippedByteInAnEventFailsEvenWithTheManifestFixed() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture, "--user", "mchen", "--since", "2026-11-24")
        let path = bundle + "/events.jsonl"
        var data = try #require(FileManager.default.contents(atPath: path))
        let range = try #require(data.range(of: Data("48210".utf8)))
        data[range.lowerBound] = UInt8(ascii: "9")
        try data.write(to: URL(fileURLWithPath: path))
        let first = BundleVerifier.verify(directory: bundle)
        #expect(!first.isValid)
        #expect(first.problems.contains { $0.hasPrefix("events.jsonl: SHA-256") })
        #expect(first.problems.contains { $0.contains("differs from event") })
        #expect(try await FlightlogCLI.run(["verify-bundle", bundle]).status == 1)

        // An editor who also rewrites the manifest hash is still caught by the signed batch.
        try BundleFiles.rehash(bundle, "events.jsonl", data)
        let second = BundleVerifier.verify(directory: bundle)
        #expect(second.problems.count == 1)
        #expect(second.problems.first?.contains("differs from event") == true)
    }

    @Test func flippedByteInABatchFails() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture, "--user", "mchen", "--since", "2026-11-24")
        let batches = try FileManager.default.contentsOfDirectory(atPath: bundle + "/batches").sorted()
        let path = bundle + "/batches/" + (try #require(batches.first))
        var data = try #require(FileManager.default.contents(atPath: path))
        data[data.count / 2] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
        try BundleFiles.rehash(bundle, "batches/" + (try #require(batches.first)), data)
        let report = BundleVerifier.verify(directory: bundle)
        #expect(!report.isValid)
        #expect(report.problems.contains { $0.contains("not a valid batch signed by") })
        #expect(try await FlightlogCLI.run(["verify-bundle", bundle]).status == 1)
    }

    @Test func refusesANonEmptyDirectory() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture, "--user", "tpatel")
        let again = try await fixture.cli("export", "--user", "tpatel", "--out", bundle)
        #expect(again.status == 2)
    }
}

enum SHA256Hex {
    static func of(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

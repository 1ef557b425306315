import Crypto
import FlightlogEvidence
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

/// `flightlog export --html` and the report.html of every bundle, on a real database holding the incident and
/// planted hostile lines: what the report shows, that the manifest hashes it, and that a changed report fails
/// `verify-bundle`.
@Suite("HTML report: export --html and report.html in bundles")
struct HTMLReportTests {
    /// The incident's day: both workstations, the gap on cc-ws-611, the planted lines on cc-ws-666; open-ended, so
    /// that the new-epoch finding (recorded when the fixture was built, today) is in the window too.
    static let window = ["--since", "2026-11-24T09:00Z"]

    @Test func reportAloneShowsTheIncidentAndEscapesPlantedLines() async throws {
        let fixture = try await HostileIncident.shared.get()
        let path = fixture.directory.file("alone-\(UUID().uuidString).html")
        let result = try await FlightlogCLI.run(
            ["export", "--db", fixture.database, "--rules", RepositoryFiles.rulePack, "--html", path] + Self.window
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("report sha256 "))
        let html = try #require(FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) })
        for expected in [
            "Incident timeline across hosts", "Events over time per host", "Matched hunt rules", "Chain of custody",
            "cc-ws-602", "cc-ws-611", "cc-ws-666", ">GAP<", ">FINDING<", "new_epoch", "batch 2 is missing",
            "Bulk export of customer records", "written on its own, outside an evidence bundle",
        ] {
            #expect(html.contains(expected), "the report lacks \(expected)")
        }
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>chat"))
        #expect(html.contains(HTMLText.escape(HostileIncident.scriptLine)))
        #expect(html.contains(HTMLText.escape(HostileIncident.imageLine)))
        #expect(html.contains(HTMLText.escape(HostileIncident.breakout)))
        #expect(html.contains("[U+001B][31mred[U+001B][0m user=[U+202E]nimda"))
        // Written once: never over an existing file.
        let again = try await FlightlogCLI.run(["export", "--db", fixture.database, "--html", path])
        #expect(again.status == 2)
        #expect(again.stderr.contains("exists"))
    }

    @Test func bundleHoldsTheReportHashedInItsManifest() async throws {
        let fixture = try await HostileIncident.shared.get()
        let bundle = fixture.directory.file("bundle-\(UUID().uuidString)")
        let copy = bundle + ".html"
        let result = try await FlightlogCLI.run(
            ["export", "--db", fixture.database, "--out", bundle, "--html", copy] + Self.window
        )
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(FileManager.default.contents(atPath: bundle + "/report.html"))
        #expect(FileManager.default.contents(atPath: copy) == report)
        let manifestData = try #require(FileManager.default.contents(atPath: bundle + "/manifest.json"))
        let manifest = try #require(BundleManifest.decode(manifestData))
        let entry = try #require(manifest.files?.first { $0.path == "report.html" })
        #expect(entry.sha256 == SHA256Hex.of(report))
        #expect(entry.bytes == report.count)
        #expect(result.stdout.contains("report.html sha256 \(SHA256Hex.of(report))"))
        let html = String(decoding: report, as: UTF8.self)
        #expect(html.contains("flightlog verify-bundle \(HTMLText.escape(bundle)) --aggregator-key"))
        #expect(html.contains("No hunt was run for this report"))
        #expect(BundleVerifier.verify(directory: bundle).isValid)
        #expect(try await FlightlogCLI.run(["verify-bundle", bundle]).status == 0)

        // One changed character of the report fails the bundle.
        var edited = report
        let at = try #require(edited.range(of: Data("Chain of custody".utf8)))
        edited[at.lowerBound] = UInt8(ascii: "X")
        try edited.write(to: URL(fileURLWithPath: bundle + "/report.html"))
        let check = try await FlightlogCLI.run(["verify-bundle", bundle])
        #expect(check.status == 1)
        #expect(check.stdout.contains("report.html: SHA-256"), "\(check.stdout)")

        // Unlisted (the manifest entry removed): a report the manifest does not vouch for also fails.
        try report.write(to: URL(fileURLWithPath: bundle + "/report.html"))
        try BundleFiles.unlist(bundle, "report.html")
        let unlisted = BundleVerifier.verify(directory: bundle)
        #expect(unlisted.problems == ["report.html: present but not listed in the manifest"])
    }

    @Test func reportOfALargeSelectionStaysSmall() async throws {
        let fixture = try await LargeIncident.shared.get()
        let path = fixture.file("large-\(UUID().uuidString).html")
        let result = try await FlightlogCLI.run(
            ["export", "--db", fixture.file("flightlog.db"), "--rules", RepositoryFiles.rulePack, "--html", path]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size < 2_000_000, "\(size) bytes for \(LargeIncident.events) events")
        let html = String(decoding: try #require(FileManager.default.contents(atPath: path)), as: UTF8.self)
        #expect(html.contains("… and \(LargeIncident.events - 500) more events"))
        #expect(html.contains(">\(LargeIncident.events)</b><span>events"))
    }
}

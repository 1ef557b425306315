import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

/// The report as a browser shows it: Debian's Chromium, headless, opens a bundle's report.html from disk and dumps
/// the DOM it built. The page must show the incident, and the planted `<script>` and `<img onerror>` lines must stay
/// text: no element made of them, and no mark of theirs on the page.
@Suite("HTML report in headless Chromium")
struct HTMLReportBrowserTests {
    /// The browser; the test fails with the remedy when it is missing.
    static func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw TestFailure("chromium is not installed: run scripts/deps.sh (it installs Debian's chromium package)")
    }

    /// Runs headless Chromium on `file` with `arguments`; its own profile in a scratch folder, no sandbox (CI runs
    /// as root), never blocking the test process's threads.
    static func browse(
        _ file: String,
        _ arguments: [String],
        in scratch: TempDirectory
    ) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        try await Subprocess.runAsync(
            try Self.chromium(),
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--user-data-dir=" + scratch.file("profile-\(UUID().uuidString)"), "--virtual-time-budget=2000",
            ] + arguments + ["file://" + file]
        )
    }

    @Test func browserShowsTheReportAndRunsNothingPlanted() async throws {
        let fixture = try await HostileIncident.shared.get()
        let bundle = fixture.directory.file("browser-\(UUID().uuidString)")
        let export = try await FlightlogCLI.run(
            ["export", "--db", fixture.database, "--rules", RepositoryFiles.rulePack, "--out", bundle]
                + HTMLReportTests.window
        )
        #expect(export.status == 0, "\(export.stderr)")
        let report = bundle + "/report.html"

        let dump = try await Self.browse(report, ["--dump-dom"], in: fixture.directory)
        #expect(dump.status == 0, "\(dump.stderr)")
        let dom = dump.stdout
        for expected in [
            "Flightlog incident report", "Incident timeline across hosts", "Events over time per host",
            "Gaps, silences and findings", "Matched hunt rules", "Chain of custody", "How to verify this bundle",
            "cc-ws-602", "cc-ws-611", "cc-ws-666", ">GAP<", ">FINDING<", "batch 2 is missing",
            "Bulk export of customer records", "flightlog verify-bundle " + bundle,
        ] {
            #expect(dom.contains(expected), "the page lacks \(expected)")
        }
        // Charts drawn: one SVG per host.
        #expect(dom.components(separatedBy: "<svg").count - 1 == 3)
        // The planted lines are on the page as text...
        #expect(dom.contains("&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt;"))
        #expect(dom.contains("&lt;img src=x onerror=\"document.body.setAttribute('data-pwned','2')\"&gt;"))
        #expect(dom.contains("\"&gt;&lt;img src=x onerror=alert(1)&gt;"))
        // ...and nothing of them became an element or ran.
        #expect(!dom.contains("<img"))
        #expect(!dom.contains("<script"))
        #expect(!dom.contains("<b>chat"))
        let body = try #require(dom.firstMatch(of: try Regex("<body[^>]*>")))
        #expect(!String(dom[body.range]).contains("data-pwned"), "\(dom[body.range])")
        #expect(!dom.contains("data-pwned=\""))

        let screenshot = fixture.directory.file("report-\(UUID().uuidString).png")
        let shot = try await Self.browse(
            report,
            ["--screenshot=" + screenshot, "--window-size=1280,2600", "--hide-scrollbars"],
            in: fixture.directory
        )
        #expect(shot.status == 0, "\(shot.stderr)")
        let png = try #require(FileManager.default.contents(atPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 20_000, "a \(png.count)-byte screenshot is a blank page")
        if let keep = ProcessInfo.processInfo.environment["FLIGHTLOG_REPORT_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: screenshot, toPath: keep)
        }
    }
}

import FlightlogTestSupport
import Foundation
import Testing

/// The README's first command, `bash scripts/demo.sh`, run as a user runs it (with the executables this test run
/// built, so that it does not build again): agent, aggregator, SQLite, queries and the starter hunt.
@Suite("The README's first command")
struct DemoScriptTests {
    @Test func theDemoRunsEndToEnd() throws {
        let flightlog = try Executables.path("flightlog")
        var environment = ProcessInfo.processInfo.environment
        environment["FLIGHTLOG_BIN"] = URL(fileURLWithPath: flightlog).deletingLastPathComponent().path
        let script = RepositoryFiles.root.appendingPathComponent("scripts/demo.sh").path
        let result = try Subprocess.run("/bin/bash", [script], environment: environment)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        // Each step reached the next: the agent's seven lines stored, found by user, and hunted.
        #expect(result.stdout.contains("listening on 127.0.0.1:"), "\(result.stdout)")
        #expect(result.stdout.contains("Accepted password for mchen from 203.0.113.77"))
        #expect(result.stdout.contains("hit 1: user=mchen"))
        #expect(result.stdout.contains("== summary\n   7 rules loaded, 5 run, 4 matched"), "\(result.stdout)")
        if let kept = result.stdout.split(separator: "\n").last(where: { $0.hasPrefix("demo files kept in ") }) {
            try? FileManager.default.removeItem(atPath: String(kept.dropFirst("demo files kept in ".count)))
        }
    }
}

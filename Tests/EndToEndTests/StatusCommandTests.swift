import FlightlogTestSupport
import Foundation
import Glibc
import Testing

/// `flightlog status` says when the counters it shows are not current: `serve` was killed (its file still says
/// "running"), or it runs but has stopped rewriting the file (a full disk refuses the new file). Exit status 1
/// then, 0 while they are current and after a clean stop.
@Suite("flightlog status: current, killed, stale", .serialized)
struct StatusCommandTests {
    @Test func aKilledServerIsReportedAsGone() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let server = try await Harness.startServeAndWait(db: db, log: scratch.file("serve.log"))
        defer { Harness.killHard(server) }
        let live = try await Harness.runAsync("flightlog", ["status", "--db", db])
        #expect(live.code == 0, "\(live.err)")
        #expect(live.out.contains("state running"))
        #expect(live.err.isEmpty, "\(live.err)")

        Harness.killHard(server)
        let gone = try await Harness.runAsync("flightlog", ["status", "--db", db])
        #expect(gone.code == 1)
        #expect(gone.out.contains("state running"), "the last counters are still shown")
        #expect(gone.err.contains("serve (pid \(server.processIdentifier)) is not running"), "\(gone.err)")
        #expect(gone.err.contains("killed, crashed, or the machine restarted"), "\(gone.err)")
    }

    @Test func aCleanStopIsNotAWarning() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let server = try await Harness.startServeAndWait(db: db, log: scratch.file("serve.log"))
        defer { Harness.killHard(server) }
        server.signal(SIGTERM)
        try await Harness.eventuallyAsync(seconds: 60, "serve writes its final status") {
            Harness.status(db: db)?.state == "stopped"
        }
        let stopped = try await Harness.runAsync("flightlog", ["status", "--db", db])
        #expect(stopped.code == 0, "\(stopped.err)")
        #expect(stopped.out.contains("state stopped"))
    }

    /// A file `serve` stopped rewriting two minutes ago, its process (here: this test's own) still alive.
    @Test func countersThatStoppedBeingRewrittenAreCalledStale() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let path = scratch.file("status.json")
        let written = Int64(Date().timeIntervalSince1970 - 120) * 1_000_000_000
        let document = """
            {"state": "running", "pid": \(getpid()), "listen": "127.0.0.1:7514", "startedNanos": \(written),
             "writtenNanos": \(written), "intervalSeconds": 2, "counters": {"commit_failures": 3}}
            """
        try Data(document.utf8).write(to: URL(fileURLWithPath: path))
        let stale = try await Harness.runAsync("flightlog", ["status", "--status-file", path])
        #expect(stale.code == 1)
        #expect(stale.out.contains("commit_failures"))
        #expect(stale.err.contains("these counters are 12"), "\(stale.err)")
        #expect(stale.err.contains("rewrites them every 2 s"), "\(stale.err)")
        #expect(stale.err.contains("a full disk?"), "\(stale.err)")

        // The same file, just written: current.
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        try Data(document.replacingOccurrences(of: "\(written)", with: "\(now)").utf8)
            .write(to: URL(fileURLWithPath: path))
        let current = try await Harness.runAsync("flightlog", ["status", "--status-file", path, "--format", "jsonl"])
        #expect(current.code == 0, "\(current.err)")
        #expect(current.err.isEmpty, "\(current.err)")
    }
}

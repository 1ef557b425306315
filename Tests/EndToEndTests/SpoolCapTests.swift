import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

extension FaultInjectionTests {
    /// The aggregator down while the agent's spool reaches its cap and logrotate keeps rotating and deleting (issue 21):
    /// the documented policy holds. The agent stops reading; a file it had open is still read to its end after it was
    /// renamed and even deleted (the descriptor keeps it); only a file created and deleted while it was not reading is
    /// lost, and that loss is exactly the lines of that file. The pause ships as a `spool_full` event.
    @Suite("End to end: the spool at its cap", .serialized)
    struct SpoolCapTests {
        @Test func atTheCapOnlyFilesTheAgentNeverOpenedAreLost() async throws {
            let site = try await EndToEndSite(agent: "ws-cap")
            let (scratch, db) = (site.scratch, site.db)
            defer { scratch.cleanup() }
            let logs = scratch.file("logs")
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let agent = try site.startAgent(
                sources: ["--watch", logs + "/app.log*"],
                extra: ["--insecure-plaintext", "--spool-max-bytes", "1048576"]
            )
            defer { if agent.isRunning { Harness.killHard(agent) } }
            let app = LogWriter(path: logs + "/app.log")
            var random = SeededRandom(state: 0xCA9_0001)
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
            func lines(_ tag: String, _ count: Int) -> [String] {
                (0..<count).map { n in
                    "\(tag) n=\(n) " + String((0..<120).map { _ in alphabet[Int(random.next() % 36)] })
                }
            }
            func status() async throws -> String {
                try await Harness.runAsync("flightlog-agent", ["status", "--state-dir", scratch.file("state")]).out
            }

            // 1. No aggregator: the spool fills to its cap (1 MiB) and reading stops. The lines do not compress
            //    (random letters): 20,000 of them make ~1.7 MiB of batches, well past the cap whatever the compressor.
            var kept: [String] = []
            let first = lines("first", 20_000)
            try app.append(first)
            kept += first
            try await Harness.eventuallyAsync(seconds: 60, "spool at its cap") {
                try await status().split(separator: "\n").contains { $0.contains("spool_full") }
            }
            // 2. While it does not read: the open file is rotated (renamed, then deleted by the next rotation), and a file
            //    that appears after the pause is rotated and deleted before the agent ever opens it.
            let tail = lines("open-file-tail", 500)
            try app.append(tail)
            kept += tail
            try app.rotate(keep: 1)  // app.log → app.log.1 (the agent's open file), a new empty app.log
            let unseen = lines("never-opened", 700)
            try app.append(unseen)  // into the new app.log, which the agent has not opened
            try app.rotate(keep: 1)  // the new file → app.log.1 (the agent's file, renamed away, is gone from the path)
            #expect(unlink(logs + "/app.log.1") == 0)  // the unseen file deleted: those lines are lost
            let after = lines("after", 300)
            try app.append(after)
            kept += after

            // 3. The aggregator comes up: the spool drains, reading resumes, the open file is read to its end.
            let server = try await site.startServer()
            defer { if server.isRunning { Harness.killHard(server) } }
            // Every line of a file the agent had open arrived once; the lost lines are exactly the unseen file's.
            let stored = try await site.stopAndExpectExactlyOnce(kept, agent: agent, server: server)
            #expect(Set(stored).isDisjoint(with: unseen))
            let own = try await SQLiteStore(readOnlyPath: db).lines(agentName: "ws-cap")
                .map { String(decoding: $0, as: UTF8.self) }
            #expect(own.contains { $0.hasPrefix("flightlog-agent spool was full; reading paused for") })
        }
    }
}

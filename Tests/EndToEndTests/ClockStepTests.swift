import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

extension FaultInjectionTests {
    /// The agent's clock stepped back by 3 hours, then forward by 5, mid-stream (issue 21: clocks), through a debug
    /// build's test clock (`FLIGHTLOG_CLOCK_OFFSET_FILE`, never the machine's clock): nothing is refused, the batches stay
    /// in sequence order, and the aggregator notes each skew at the agent's next handshake.
    @Suite("End to end: the agent's clock steps", .serialized)
    struct ClockStepTests {
        @Test func backAndForwardByHoursLosesNothingAndIsNoted() async throws {
            let site = try await EndToEndSite(agent: "ws-clock")
            let (scratch, db) = (site.scratch, site.db)
            defer { scratch.cleanup() }
            var server = try await site.startServer()
            let offset = scratch.file("clock-offset")
            try "0".write(toFile: offset, atomically: true, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["FLIGHTLOG_CLOCK_OFFSET_FILE"] = offset
            let agent = try site.startAgent(sources: ["--watch", scratch.file("app.log")], environment: environment)
            defer {
                for process in [agent, server] where process.isRunning { Harness.killHard(process) }
            }
            let app = LogWriter(path: scratch.file("app.log"))
            let index = site.index
            var expected: [String] = []
            func write(_ phase: String) async throws {
                for chunk in 0..<3 {
                    let lines = (0..<10).map { "clock \(phase) chunk=\(chunk) n=\($0)" }
                    try app.append(lines)
                    expected += lines
                    try await Task.sleep(for: .milliseconds(150))
                }
                try await index.waitFor(count: expected.count, scratch: scratch)
            }
            /// The skew the aggregator recorded at the agent's last handshake, in seconds.
            func recordedSkewSeconds() async throws -> Int? {
                let agents = try await Harness.runAsync("flightlog", ["agents", "--db", db, "--format", "jsonl"]).out
                guard let range = agents.range(of: "\"clock_skew_ms\":") else { return nil }
                let digits = agents[range.upperBound...].prefix { $0 == "-" || $0.isNumber }
                return Int(digits).map { $0 / 1000 }
            }
            /// Restarts the aggregator, so that the agent shakes hands again and reports its clock.
            func reconnect(expectingSkew seconds: Int) async throws {
                server.terminate()
                await server.exited()
                server = try await site.startServer()
                try await Harness.eventuallyAsync(seconds: 60, "skew of \(seconds) s recorded") {
                    guard let skew = try await recordedSkewSeconds() else { return false }
                    return abs(skew - seconds) < 60
                }
            }

            try await write("before")
            try "-10800".write(toFile: offset, atomically: true, encoding: .utf8)
            try await write("three-hours-back")
            try await reconnect(expectingSkew: -10_800)
            try "18000".write(toFile: offset, atomically: true, encoding: .utf8)
            try await write("five-hours-ahead")
            try await reconnect(expectingSkew: 18_000)
            try await write("after")

            let stored = try await site.stopAndExpectExactlyOnce(expected, agent: agent, server: server)
            // In sequence order, whatever the clock said.
            #expect(stored == expected)
            let findings = try await SQLiteStore(readOnlyPath: db).findings()
            #expect(findings.isEmpty, "\(findings)")
            let timeline = try await Harness.runAsync("flightlog", ["timeline", "--db", db]).out
            #expect(timeline.contains("# clock: ws-clock: agent clock"), "\(timeline.prefix(600))")
        }
    }
}

import FlightlogTestSupport
import Foundation
import Glibc
import Testing

extension FaultInjectionTests {
    /// An aggregator that stops for a second at a time (SIGSTOP, SIGCONT), ten times (100 with `scripts/test.sh --long`),
    /// while an agent streams faster than it is served (issue 21: backpressure). Every line arrives once, and neither program's resident
    /// memory grows past a bound while it waits: the agent keeps its lines in its files and spool, the aggregator reads
    /// no more than its window and budget allow.
    @Suite("End to end: backpressure from a stalling aggregator", .serialized)
    struct BackpressureTests {
        /// Resident set of `pid` in MiB (`VmRSS`), or nil when the process is gone.
        static func residentMiB(_ pid: Int32) -> Double? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
                return Double(line.split(separator: " ").dropFirst().first ?? "").map { $0 / 1024 }
            }
            return nil
        }

        @Test func stopAndGoLosesNothingAndKeepsMemoryBounded() async throws {
            let site = try await EndToEndSite(agent: "ws-slow")
            let scratch = site.scratch
            defer { scratch.cleanup() }
            let server = try await site.startServer()
            let agent = try site.startAgent(sources: ["--watch", scratch.file("app.log")])
            defer {
                kill(server.processIdentifier, SIGCONT)
                for process in [agent, server] where process.isRunning { Harness.killHard(process) }
            }
            let app = LogWriter(path: scratch.file("app.log"))
            var expected: [String] = []
            var chunk = 0
            func writeChunk() throws {
                let lines = (0..<200).map { "slow chunk=\(chunk) n=\($0) \(String(repeating: "s", count: 120))" }
                try app.append(lines)
                expected += lines
                chunk += 1
            }
            // Warm up, then take the baseline.
            for _ in 0..<5 {
                try writeChunk()
                try await Task.sleep(for: .milliseconds(100))
            }
            let index = site.index
            try await index.waitFor(count: expected.count, scratch: scratch)
            let agentBase = try #require(Self.residentMiB(agent.processIdentifier))
            let serverBase = try #require(Self.residentMiB(server.processIdentifier))
            var agentPeak = agentBase
            var serverPeak = serverBase

            let cycles = ProcessInfo.processInfo.environment["FLIGHTLOG_LONG"] == "1" ? 100 : 10
            for _ in 0..<cycles {
                kill(server.processIdentifier, SIGSTOP)
                for _ in 0..<5 {
                    try writeChunk()
                    try await Task.sleep(for: .milliseconds(200))
                    agentPeak = max(agentPeak, Self.residentMiB(agent.processIdentifier) ?? 0)
                }
                kill(server.processIdentifier, SIGCONT)
                try await Task.sleep(for: .milliseconds(500))
                serverPeak = max(serverPeak, Self.residentMiB(server.processIdentifier) ?? 0)
            }
            try await index.waitFor(count: expected.count, scratch: scratch)
            serverPeak = max(serverPeak, Self.residentMiB(server.processIdentifier) ?? 0)
            try await site.stopAndExpectExactlyOnce(expected, agent: agent, server: server)

            // The figures RELIABILITY.md records.
            FileHandle.standardError.write(
                Data(
                    "backpressure: agent \(agentBase) → \(agentPeak) MiB, aggregator \(serverBase) → \(serverPeak) MiB\n"
                        .utf8
                )
            )
            // 10,000 lines of ~170 bytes (1.7 MB; 17 MB in the long run) were offered while the aggregator stalled. The agent holds at most one
            // batch of lines in memory; the aggregator at most its window and decoded-batch budget (RELIABILITY.md).
            #expect(agentPeak - agentBase < 16, "agent grew from \(agentBase) to \(agentPeak) MiB")
            #expect(serverPeak - serverBase < 128, "aggregator grew from \(serverBase) to \(serverPeak) MiB")
        }
    }
}

import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

extension FaultInjectionTests {
    /// The real executables over real loopback TCP and real files: `kill -9` of the agent (many times) and of the
    /// aggregator (once) while lines are written and files rotate; every line must be indexed exactly once.
    @Suite("End to end: kill -9 mid-stream", .serialized)
    struct KillNineTests {
        @Test(arguments: SiteStore.allCases) func everyLineIsIndexedExactlyOnceAcrossKills(
            _ store: SiteStore
        ) async throws {
            let site = try await EndToEndSite(agent: "ws-e2e", store: store)
            defer { site.scratch.cleanup() }
            let logs = site.scratch.file("logs")
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            func startServer() async throws -> Subprocess { try await site.startServer() }
            func startAgent() throws -> Subprocess {
                try site.startAgent(sources: ["--watch", logs + "/app.log*", "--watch", logs + "/auth.log"])
            }

            var server = try await startServer()
            var agent = try startAgent()
            // Whatever happens below, leave no process behind.
            defer {
                for process in [agent, server] where process.isRunning { Harness.killHard(process) }
            }
            let app = LogWriter(path: logs + "/app.log")
            let auth = LogWriter(path: logs + "/auth.log")
            var expected: [String] = []
            var random = SystemRandomNumberGenerator()
            let rounds = 12
            for round in 0..<rounds {
                // A burst of lines in small writes, with a rotation in some rounds.
                for chunk in 0..<10 {
                    let lines = (0..<25).map {
                        "app round=\(round) chunk=\(chunk) n=\($0) user=u\($0 % 7) payload=\(String(repeating: "x", count: 60))"
                    }
                    try app.append(lines)
                    expected += lines
                    let authLine =
                        "Nov 24 10:\(String(format: "%02d", round)):\(String(format: "%02d", chunk)) ws-e2e sshd[\(1000 + round)]: Accepted password for u\(chunk) from 203.0.113.\(round) port \(40000 + chunk) ssh2"
                    try auth.append([authLine])
                    expected.append(authLine)
                    if chunk == 5 && round % 3 == 1 { try app.rotate(keep: 3) }
                    try await Task.sleep(for: .microseconds(Int.random(in: 1_000...8_000, using: &random)))
                }
                // kill -9 the agent at an arbitrary moment, sometimes before it could ship anything.
                try await Task.sleep(for: .microseconds(Int.random(in: 0...150_000, using: &random)))
                Harness.killHard(agent)
                if round == rounds / 2 {
                    Harness.killHard(server)
                    server = try await startServer()
                }
                agent = try startAgent()
            }

            // Let the agent catch up, then check the index.
            let stored = try await site.stopAndExpectExactlyOnce(expected, agent: agent, server: server)

            // Lines of one file keep their order within the index.
            let authStored = stored.filter { $0.contains("sshd[") }
            let authExpected = expected.filter { $0.contains("sshd[") }
            #expect(authStored == authExpected)

            // The agent's own story is in the index too: starts after every kill, and the final stop.
            let lifecycle = try await site.index.all().filter { $0.hasPrefix("flightlog-agent ") }
            // An agent killed within milliseconds of its launch may die before committing its start; the first and the
            // last launch certainly commit theirs.
            #expect(lifecycle.filter { $0.hasPrefix("flightlog-agent started") }.count >= 2)
            #expect(lifecycle.contains { $0.hasPrefix("flightlog-agent stopping") })
            #expect(lifecycle.contains { $0.contains("rotated") })
            // No equivocation or broken chain: the agent never built two batches for the same lines.
            let findings = try await site.index.findings()
            #expect(findings.filter { $0.kind != .gap }.isEmpty, "\(findings)")
            #expect(findings.isEmpty, "\(findings)")
            let verify = try await site.verify()
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
            await site.close()
        }
    }
}

import FlightlogPostgres
import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogStore

/// The lines one agent shipped, as the index holds them: what the kill tests wait for and check.
struct IndexedLines {
    let db: String
    let agent: String
    /// The PostgreSQL store the aggregator writes instead of `db`, if any.
    var postgres: PostgresStore? = nil

    /// The agent's lines, in index order, without its own lifecycle lines.
    func read() async throws -> [String] {
        try await self.all().filter { !$0.hasPrefix("flightlog-agent ") }
    }

    /// The agent's lines, in index order, its lifecycle lines included.
    func all() async throws -> [String] {
        let lines =
            if let postgres = self.postgres {
                try await postgres.lines(agentName: self.agent)
            } else {
                try await SQLiteStore(readOnlyPath: self.db).lines(agentName: self.agent)
            }
        return lines.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The store's chain findings.
    func findings() async throws -> [ChainFinding] {
        if let postgres = self.postgres { return try await postgres.findings() }
        return try await SQLiteStore(readOnlyPath: self.db).findings()
    }

    /// Waits (up to two minutes) until at least `count` lines are indexed; on time-out records the agent's status and
    /// the logs in `scratch` (`agent.log`, `serve.log`, `state/`).
    func waitFor(count: Int, scratch: TempDirectory) async throws {
        do {
            try await Harness.eventuallyAsync(seconds: 120, "all \(count) lines indexed") {
                ((try? await self.read().count) ?? 0) >= count
            }
        } catch {
            let have = (try? await self.read().count) ?? -1
            let log = { (name: String) in (try? String(contentsOfFile: scratch.file(name), encoding: .utf8)) ?? "" }
            let status = try? await Harness.runAsync(
                "flightlog-agent",
                ["status", "--state-dir", scratch.file("state")]
            )
            let agentLog = String(log("agent.log").suffix(3000))
            let serveLog = String(log("serve.log").suffix(2000))
            Issue.record(
                "indexed \(have) of \(count); agent status:\n\(status?.out ?? "")\nagent log:\n\(agentLog)\nserve log:\n\(serveLog)"
            )
            throw error
        }
    }

    /// Stops `agent` with SIGTERM once it says it is connected (a signal before its handlers exist would just end
    /// the process), then `server`; returns the agent's exit status.
    static func stop(agent: Subprocess, server: Subprocess, stateDirectory: String) async throws -> Int32 {
        try await Harness.eventuallyAsync(seconds: 30, "agent connected") {
            let status = try? await Harness.runAsync("flightlog-agent", ["status", "--state-dir", stateDirectory])
            return status?.out.contains("connection: connected") ?? false
        }
        agent.terminate()
        let status = await agent.exited()
        server.terminate()
        await server.exited()
        return status
    }

    /// Every expected line stored exactly once, and nothing else.
    static func expectExactlyOnce(_ stored: [String], _ expected: [String]) {
        var counts: [String: Int] = [:]
        for line in stored { counts[line, default: 0] += 1 }
        let duplicates = counts.filter { $0.value > 1 }
        let missing = Set(expected).subtracting(counts.keys)
        let unexpected = Set(counts.keys).subtracting(expected)
        #expect(duplicates.isEmpty, "duplicated lines: \(duplicates.keys.prefix(5))")
        #expect(missing.isEmpty, "missing lines: \(missing.prefix(5))")
        #expect(unexpected.isEmpty, "lines never written: \(unexpected.prefix(5))")
        #expect(stored.count == expected.count)
    }
}

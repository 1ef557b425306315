import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogTestSupport
import Foundation
import Glibc
import Testing

extension FaultInjectionTests {
    /// Three agents streaming to one aggregator while both sides are killed with `kill -9` (issue 21): 5 rounds in CI, 50
    /// with `scripts/test.sh --long` (`FLIGHTLOG_LONG=1`). Each round kills one agent and the aggregator; after each
    /// restart of the aggregator, `flightlog verify --deep` (every chain, every row, SQLite's integrity check) is clean.
    /// The first aggregator dies at its commit-before-ACK failpoint, so that batches stored but never acknowledged are
    /// certain to be sent again or retired by a WELCOME.
    @Suite("End to end: kill -9 of both sides, several agents", .serialized)
    struct MultiAgentKillTests {
        static let rounds = ProcessInfo.processInfo.environment["FLIGHTLOG_LONG"] == "1" ? 50 : 5

        /// On PostgreSQL, `verify --store` after each restart (every chain, row, leaf and checkpoint; `--deep`'s
        /// SQLite integrity check has no counterpart there).
        @Test(arguments: SiteStore.allCases) func everyLineOnceAcrossKillsOfBothSides(_ kind: SiteStore) async throws {
            let scratch = try TempDirectory()
            if ProcessInfo.processInfo.environment["FLIGHTLOG_KEEP_SCRATCH"] != nil { scratch.keep() }
            defer { scratch.cleanup() }
            let db = scratch.file("flightlog.db")
            let database = kind == .postgres ? try await PostgresTestDatabase.make() : nil
            let store = database.map { ["--store", $0.location.description] } ?? ["--db", db]
            let serveStore =
                store
                + (database == nil
                    ? []
                    : [
                        "--node", "e2e-node", "--aggregator-key", scratch.file("site.key"), "--status-file",
                        scratch.file("serve.status.json"),
                    ])
            let verifyArguments =
                ["verify"] + store
                + (database == nil ? ["--deep"] : ["--aggregator-key", scratch.file("site.key.pub")])
            let names = ["ws-m0", "ws-m1", "ws-m2"]
            for name in names {
                try await Harness.enrollNewAgent(keyPath: scratch.file("\(name).key"), store: store, name: name)
            }
            var postgres: PostgresStore?
            if let database { postgres = try await PostgresStore.open(database.location, node: "checker") }
            let port = try Harness.freePort()

            func startServer(failpoint: Bool = false) async throws -> Subprocess {
                var environment = ProcessInfo.processInfo.environment
                if failpoint {
                    environment["FLIGHTLOG_FAILPOINT"] = "aggregator.committed-before-ack@4"
                    environment["FLIGHTLOG_FAILPOINT_MARK"] = scratch.file("failpoint.reached")
                }
                let server = try Subprocess(
                    try Executables.path("flightlog"),
                    ["serve"] + serveStore + [
                        "--listen", "127.0.0.1:\(port)", "--insecure-plaintext", "--log-level", "warning",
                    ],
                    environment: environment,
                    stdout: scratch.file("serve.log"),
                    stderr: scratch.file("serve.log")
                )
                try await Harness.eventuallyAsync(seconds: 60, "server listening") { Harness.isListening(port) }
                return server
            }
            func startAgent(_ name: String) throws -> Subprocess {
                try Harness.startAgent(
                    scratch: scratch,
                    port: port,
                    hostname: name,
                    sources: ["--watch", scratch.file("\(name).log")],
                    key: "\(name).key",
                    state: "state-\(name)",
                    log: "agent-\(name).log"
                )
            }
            /// Batches this agent process learned were stored without their ACK: answered again, or retired by a WELCOME.
            func resent(_ name: String) async throws -> Int {
                let status = try await Harness.runAsync(
                    "flightlog-agent",
                    ["status", "--state-dir", scratch.file("state-\(name)")]
                )
                .out
                return ["batches_acked_by_welcome", "batches_acked_duplicate"].reduce(0) { total, counter in
                    let line = status.split(separator: "\n").first { $0.contains(counter) }
                    return total + (line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0)
                }
            }

            var server = try await startServer(failpoint: true)
            var agents = try names.map(startAgent)
            defer {
                for process in agents + [server] where process.isRunning { Harness.killHard(process) }
            }
            var expected: [String: [String]] = [:]
            var random = SeededRandom(state: 0x00C0_FFEE)
            var resends = 0
            for round in 0..<Self.rounds {
                for chunk in 0..<3 {
                    for name in names {
                        let lines = (0..<15).map { "\(name) round=\(round) chunk=\(chunk) n=\($0)" }
                        try LogWriter(path: scratch.file("\(name).log")).append(lines)
                        expected[name, default: []] += lines
                    }
                    try await Task.sleep(for: .milliseconds(Int(20 + random.next() % 80)))
                }
                // The first aggregator dies at its failpoint (its fourth commit): under load that can take longer than
                // the writes above, so more are written until it has.
                if round == 0 {
                    var extra = 0
                    try await Harness.eventuallyAsync(seconds: 60, "the failpoint reached") {
                        if FileManager.default.fileExists(atPath: scratch.file("failpoint.reached")) { return true }
                        for name in names {
                            let lines = (0..<15).map { "\(name) round=0 extra=\(extra) n=\($0)" }
                            try LogWriter(path: scratch.file("\(name).log")).append(lines)
                            expected[name, default: []] += lines
                        }
                        extra += 1
                        try await Task.sleep(for: .milliseconds(100))
                        return false
                    }
                }
                // One agent, at a moment of its own.
                let victim = round % names.count
                try await Task.sleep(for: .milliseconds(Int(random.next() % 150)))
                resends += try await resent(names[victim])
                Harness.killHard(agents[victim])
                agents[victim] = try startAgent(names[victim])
                // The aggregator (the first one may have killed itself at its failpoint already).
                try await Task.sleep(for: .milliseconds(Int(random.next() % 150)))
                if server.isRunning { Harness.killHard(server) } else { await server.exited() }
                server = try await startServer()
                let verify = try await Harness.runAsync("flightlog", verifyArguments)
                #expect(verify.code == 0, "round \(round): \(verify.out)\(verify.err)")
            }
            #expect(
                FileManager.default.fileExists(atPath: scratch.file("failpoint.reached")),
                "the failpoint was reached"
            )

            for name in names {
                let index = IndexedLines(db: db, agent: name, postgres: postgres)
                try await index.waitFor(count: expected[name, default: []].count, scratch: scratch)
            }
            for (slot, name) in names.enumerated() {
                try await Harness.eventuallyAsync(seconds: 30, "\(name) connected") {
                    let status = try? await Harness.runAsync(
                        "flightlog-agent",
                        ["status", "--state-dir", scratch.file("state-\(name)")]
                    )
                    return status?.out.contains("connection: connected") ?? false
                }
                resends += try await resent(name)
                agents[slot].terminate()
                #expect(await agents[slot].exited() == 0)
            }
            server.terminate()
            await server.exited()
            for name in names {
                let stored = try await IndexedLines(db: db, agent: name, postgres: postgres).read()
                IndexedLines.expectExactlyOnce(stored, expected[name, default: []])
                #expect(stored == expected[name, default: []], "\(name): lines out of order")
            }
            // Counters die with a killed process; the agents' logs (appended across restarts) keep the WELCOMEs that
            // retired batches stored without their ACK.
            let retired = names.filter { name in
                let log = (try? String(contentsOfFile: scratch.file("agent-\(name).log"), encoding: .utf8)) ?? ""
                return log.contains("already holds spooled batches whose ACK never came")
            }
            #expect(resends >= 1 || !retired.isEmpty, "no batch was ever sent again or retired by a WELCOME")
            let verify = try await Harness.runAsync("flightlog", verifyArguments)
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
            postgres?.close()
            await database?.drop()
        }
    }
}

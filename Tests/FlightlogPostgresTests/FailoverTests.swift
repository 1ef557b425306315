import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogSystem
import FlightlogTestSupport
import Foundation
import Glibc
import Testing

/// PostgreSQL itself fails over: a cluster of the test's own with a synchronous standby (scripts/postgres.sh), an
/// agent shipping through `serve --store`, the primary stopped as a crash while lines are written, the standby
/// promoted and `serve` restarted on it. Every line is stored exactly once in the promoted store: no batch the agent
/// was told was stored (and then deleted from its spool) was lost. `serve` said at start that acknowledged batches
/// survive a failover to the standby. Without a synchronous standby that promise does not hold, which the docs say.
@Suite("PostgreSQL: a failover to a synchronous standby", .serialized)
struct FailoverTests {
    @Test func everyAcknowledgedLineSurvivesThePromotionOfTheSynchronousStandby() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        chmod(scratch.path, 0o755)
        let cluster = scratch.file("pg")
        let script = RepositoryFiles.root.appendingPathComponent("scripts/postgres.sh").path
        func postgres(_ command: String) async throws -> String {
            let run = try await Subprocess.runAsync("/bin/bash", [script, command, cluster])
            guard run.status == 0 else { throw TestFailure("postgres.sh \(command): \(run.stderr)") }
            return run.stdout
        }
        let exports = try await postgres("start") + (try await postgres("replica"))
        defer { _ = try? Subprocess.run("/bin/bash", [script, "stop", cluster]) }
        func exported(_ name: String) throws -> String {
            guard let line = exports.split(separator: "\n").first(where: { $0.hasPrefix("export \(name)=") }) else {
                throw TestFailure("postgres.sh printed no \(name)")
            }
            return String(line.dropFirst("export \(name)=".count))
        }
        var environment = ProcessInfo.processInfo.environment
        environment["FLIGHTLOG_PG_PASSWORD_FILE"] = try exported("FLIGHTLOG_PG_PASSWORD_FILE")
        let primary = try PostgresLocation(try exported("FLIGHTLOG_TEST_POSTGRES"), environment: environment)
        let standby = try PostgresLocation(try exported("FLIGHTLOG_TEST_POSTGRES_REPLICA"), environment: environment)
        _ = try await postgres("sync")

        let flightlog = try Executables.path("flightlog")
        let keygen = try await Subprocess.runAsync(
            try Executables.path("flightlog-agent"),
            ["keygen", "--key", scratch.file("agent.key")]
        )
        let enroll = try await Subprocess.runAsync(
            flightlog,
            [
                "enroll", "--store", primary.description, "--name", "ws-failover", "--public-key",
                keygen.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
            ],
            environment: environment
        )
        #expect(enroll.status == 0, "\(enroll.stderr)")
        let port = try ThreeNodeTests.freePort()
        func serve(_ store: PostgresLocation, node: String, log: String) throws -> Subprocess {
            try Subprocess(
                flightlog,
                [
                    "serve", "--store", store.description, "--node", node, "--aggregator-key",
                    scratch.file("site.key"), "--listen", "127.0.0.1:\(port)", "--insecure-plaintext", "--heartbeat",
                    "1", "--status-file", scratch.file("serve.status.json"),
                ],
                environment: environment,
                stdout: scratch.file(log),
                stderr: scratch.file(log)
            )
        }
        var server = try serve(primary, node: "before", log: "serve-1.log")
        try await PostgresTestDatabase.eventually(seconds: 60, "serve listening") {
            LoopbackTCP.connect(port: port).map { close($0) } != nil
        }
        let serveLog = try String(contentsOfFile: scratch.file("serve-1.log"), encoding: .utf8)
        #expect(serveLog.contains("an acknowledged batch survives a failover"), "\(serveLog)")
        let agent = try Subprocess(
            try Executables.path("flightlog-agent"),
            [
                "run", "--aggregator", "127.0.0.1:\(port)", "--key", scratch.file("agent.key"), "--state-dir",
                scratch.file("state"), "--hostname", "ws-failover", "--flush-interval-ms", "50", "--watch",
                scratch.file("app.log"), "--insecure-plaintext",
            ],
            stdout: scratch.file("agent.log"),
            stderr: scratch.file("agent.log")
        )
        defer {
            agent.signal(SIGKILL)
            server.signal(SIGKILL)
        }

        let logPath = scratch.file("app.log")
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw TestFailure("cannot create \(logPath)")
        }
        var expected: [String] = []
        func write(_ round: Int) throws {
            let lines = (0..<20).map { "failover round=\(round) n=\($0)" }
            guard let handle = FileHandle(forWritingAtPath: logPath) else {
                throw TestFailure("cannot open \(logPath)")
            }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
            expected += lines
        }
        // Lines stored and acknowledged before the crash: the agent's spool is empty of them.
        for round in 0..<5 {
            try write(round)
            try await Task.sleep(for: .milliseconds(100))
        }
        try await PostgresTestDatabase.eventually(seconds: 60, "the first lines stored") {
            let store = try await PostgresStore.open(primary, create: false)
            defer { store.close() }
            return try await store.lines(agentName: "ws-failover").count >= 60
        }
        // The crash, while lines keep coming; the standby promoted; serve replaced by one on it (where a real site
        // moves its address or DNS name). The old serve is killed: its store calls would wait on the dead primary.
        try write(5)
        _ = try await postgres("failover")
        try write(6)
        server.signal(SIGKILL)
        _ = await server.exited()
        server = try serve(standby, node: "after", log: "serve-2.log")
        for round in 7..<10 {
            try write(round)
            try await Task.sleep(for: .milliseconds(100))
        }
        let promoted = try await PostgresStore.open(standby, create: false)
        defer { promoted.close() }
        try await PostgresTestDatabase.eventually(seconds: 90, "every line stored on the promoted standby") {
            try await promoted.lines(agentName: "ws-failover").count >= expected.count
        }
        let stored = try await promoted.lines(agentName: "ws-failover").map { String(decoding: $0, as: UTF8.self) }
            .filter { !$0.hasPrefix("flightlog-agent ") }
        #expect(stored.count == expected.count, "stored \(stored.count) of \(expected.count)")
        #expect(Set(stored) == Set(expected))
        #expect(try await promoted.findings().isEmpty, "no gap: no acknowledged batch is missing")
        // The promoted standby holds the batches the first serve stored on the primary, and the second's.
        let perNode = try await promoted.batchesPerNode()
        #expect((perNode["before"] ?? 0) > 0 && (perNode["after"] ?? 0) > 0, "\(perNode)")
        let verify = try await Subprocess.runAsync(
            flightlog,
            ["verify", "--store", standby.description, "--aggregator-key", scratch.file("site.key")],
            environment: environment
        )
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}

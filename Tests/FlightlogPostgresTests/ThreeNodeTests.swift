import FlightlogEvidence
import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogSystem
import FlightlogTestSupport
import Foundation
import Glibc
import Testing

/// The real executables: three `flightlog serve` nodes on one PostgreSQL database, one `flightlog-agent` that lists
/// all three, lines written the whole time. The node the agent ships to is killed (`kill -9`), then frozen
/// (`SIGSTOP`), then killed again; every line must be stored exactly once, with no finding, in one transparency log.
@Suite("PostgreSQL: three nodes, kill -9 and SIGSTOP in turn", .serialized)
struct ThreeNodeTests {
    @Test func everyLineIsStoredOnceWhileTheAgentsNodeIsKilledAndFrozenInTurn() async throws {
        let database = try await PostgresTestDatabase.make()
        let scratch = try TempDirectory()
        if ProcessInfo.processInfo.environment["FLIGHTLOG_KEEP_SCRATCH"] != nil { scratch.keep() }
        defer { scratch.cleanup() }
        let url = database.location.description
        let keygen = try await Subprocess.runAsync(
            try Executables.path("flightlog-agent"),
            ["keygen", "--key", scratch.file("agent.key")]
        )
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let enroll = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            [
                "enroll", "--store", url, "--name", "ws-3n",
                "--public-key", keygen.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
            ]
        )
        #expect(enroll.status == 0, "\(enroll.stderr)")

        let ports = try (0..<3).map { _ in try Self.freePort() }
        func startNode(_ index: Int) async throws -> Subprocess {
            let log = scratch.file("node-\(index + 1).log")
            let node = try Subprocess(
                try Executables.path("flightlog"),
                [
                    "serve", "--store", url, "--node", "node-\(index + 1)", "--aggregator-key",
                    scratch.file("site.key"), "--listen", "127.0.0.1:\(ports[index])", "--insecure-plaintext",
                    "--heartbeat", "1", "--checkpoint-interval", "1", "--log-level", "warning",
                    "--status-file", scratch.file("node-\(index + 1).status.json"),
                ],
                stdout: log,
                stderr: log
            )
            try await Self.eventually(seconds: 60, "node \(index + 1) listening", node: node, log: log) {
                LoopbackTCP.connect(port: ports[index]).map { close($0) } != nil
            }
            return node
        }
        // The first node creates the site key; the others read it.
        var nodes: [Subprocess] = []
        for index in 0..<3 { nodes.append(try await startNode(index)) }
        let agentLog = scratch.file("agent.log")
        let logFile = scratch.file("app.log")
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let agent = try Subprocess(
            try Executables.path("flightlog-agent"),
            [
                "run", "--key", scratch.file("agent.key"), "--state-dir", scratch.file("state"), "--hostname", "ws-3n",
                "--flush-interval-ms", "50", "--watch", logFile, "--insecure-plaintext",
            ]
                + ports.flatMap { ["--aggregator", "127.0.0.1:\($0)"] },
            stdout: agentLog,
            stderr: agentLog
        )
        defer {
            for process in nodes + [agent] where process.isRunning {
                process.signal(SIGCONT)
                process.signal(SIGKILL)
                process.waitUntilExit()
            }
        }
        let store = try await PostgresStore.open(database.location, node: "checker")
        defer { store.close() }
        var query = EventQuery()
        query.source = logFile

        // Lines written in small bursts the whole time, in the background.
        let writer = LineWriter(path: logFile)
        let writing = Task { try await writer.run() }

        func currentNode() async throws -> Int? {
            guard let name = try await store.currentNodes()["ws-3n"], name.hasPrefix("node-") else { return nil }
            return Int(name.dropFirst(5)).map { $0 - 1 }
        }
        func awaitShippingElsewhere(than gone: Int, _ what: String) async throws {
            let before = try await store.countEvents(query)
            try await Self.eventually(seconds: 90, what, node: agent, log: agentLog) {
                guard let now = try await currentNode(), now != gone else { return false }
                return try await store.countEvents(query) > before
            }
        }
        try await Self.eventually(seconds: 60, "the agent ships", node: agent, log: agentLog) {
            guard try await currentNode() != nil else { return false }
            return try await store.countEvents(query) > 0
        }
        // 1. kill -9 the node the agent ships to.
        let first = try #require(try await currentNode())
        nodes[first].signal(SIGKILL)
        nodes[first].waitUntilExit()
        try await awaitShippingElsewhere(than: first, "the agent fails over after node \(first + 1) was killed")
        nodes[first] = try await startNode(first)
        // 2. freeze the node it moved to: it still accepts TCP, but answers nothing.
        let second = try #require(try await currentNode())
        nodes[second].signal(SIGSTOP)
        try await awaitShippingElsewhere(than: second, "the agent leaves node \(second + 1), frozen")
        nodes[second].signal(SIGKILL)
        nodes[second].signal(SIGCONT)
        nodes[second].waitUntilExit()
        nodes[second] = try await startNode(second)
        // 3. kill -9 the next one too.
        let third = try #require(try await currentNode())
        nodes[third].signal(SIGKILL)
        nodes[third].waitUntilExit()
        try await awaitShippingElsewhere(than: third, "the agent fails over after node \(third + 1) was killed")

        writing.cancel()
        let expected = try await writing.value
        try await Self.eventually(seconds: 90, "every line stored", node: agent, log: agentLog) {
            try await store.countEvents(query) >= expected.count
        }
        agent.terminate()
        #expect(await agent.exited() == 0)

        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        _ = try await store.forEachEvent(query) { event in
            lines.all.append(String(decoding: event.line, as: UTF8.self))
            return true
        }
        #expect(lines.all.count == expected.count, "stored \(lines.all.count) lines, wrote \(expected.count)")
        #expect(Set(lines.all) == Set(expected))
        #expect(Set(lines.all).count == lines.all.count, "a line was stored twice")
        // One chain, continued across nodes: no gap, no equivocation, no new epoch.
        let findings = try await store.findings()
        #expect(findings.isEmpty, "\(findings)")
        let perNode = try await store.batchesPerNode()
        #expect(perNode.count >= 2, "\(perNode)")
        // One transparency log: every stored batch is one leaf, and each node's checkpoints are of that tree, signed
        // with the one site key.
        let batches = perNode.values.reduce(0, +)
        #expect(try await store.treeSize() == UInt64(batches))
        let checkpoints = try await store.checkpoints()
        #expect(!checkpoints.isEmpty)
        #expect(Set(checkpoints.map(\.signed.checkpoint.origin)).count == 1)
        for checkpoint in checkpoints.suffix(5) {
            #expect(
                try await store.treeRoot(size: checkpoint.signed.checkpoint.size)
                    == checkpoint.signed.checkpoint.rootHash
            )
        }
        for node in nodes where node.isRunning { node.terminate() }
        for node in nodes { await node.exited() }
        // The investigator's check, as a process: every batch, row, leaf and checkpoint against the site key.
        let verify = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["verify", "--store", url, "--aggregator-key", scratch.file("site.key")]
        )
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("verify: clean"), "\(verify.stdout)")
        // The operator's view of the nodes: each one's batches, adding up to the store's.
        let status = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["status", "--store", url, "--format", "jsonl"]
        )
        #expect(status.status == 0, "\(status.stderr)")
        let statusLines = status.stdout.split(separator: "\n").map(String.init)
        let nodeLines = statusLines.filter { $0.hasPrefix("{\"type\":\"node\"") }
        #expect(nodeLines.count >= 2, "\(status.stdout)")
        let stored = nodeLines.compactMap { line -> Int? in
            guard let range = line.range(of: "\"batches\":") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(statusLines.last?.contains("\"batches\":\(stored.reduce(0, +)),") == true, "\(status.stdout)")
        await database.drop()
    }

    /// A port nothing listens on now.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            if let (fd, port) = LoopbackTCP.bind(port: Int.random(in: 20_000..<32_768)) {
                close(fd)
                return port
            }
        }
        throw TestFailure("no free port on 127.0.0.1")
    }

    /// Polls `condition` every 50 ms until it holds; fails after `seconds`, or at once when `node` exits, with the end
    /// of its log.
    static func eventually(
        seconds: Double,
        _ what: String,
        node: Subprocess,
        log: String,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while try await !condition() {
            let tail = { (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(3000) ?? "" }
            guard node.isRunning else { throw TestFailure("\(what): the process exited; its log ends:\n\(tail())") }
            guard ContinuousClock.now < deadline else {
                throw TestFailure("\(what): not within \(seconds) s; the log ends:\n\(tail())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Appends numbered lines to a file, 20 every 20 ms, until cancelled; returns what it wrote.
struct LineWriter: Sendable {
    let path: String

    func run() async throws -> [String] {
        guard let handle = FileHandle(forWritingAtPath: self.path) else {
            throw TestFailure("cannot open \(self.path)")
        }
        defer { try? handle.close() }
        var written: [String] = []
        var round = 0
        while !Task.isCancelled {
            let lines = (0..<20).map {
                "app round=\(round) n=\($0) user=u\($0 % 5) payload=\(String(repeating: "x", count: 40))"
            }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
            written += lines
            round += 1
            try? await Task.sleep(for: .milliseconds(20))
        }
        return written
    }
}

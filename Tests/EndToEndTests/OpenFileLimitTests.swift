import FlightlogTestSupport
import FlightlogWire
import Foundation
import Glibc
import Testing

/// `flightlog serve` under the open-file limits a fleet meets: Debian's default soft limit of 1,024 descriptors is
/// fewer than 2,000 agents' connections. Here the limits are scaled down (64 and 100) and the connections with them.
@Suite("End to end: serve and the open-file limit", .serialized)
struct OpenFileLimitTests {
    /// A soft limit below what `--max-connections` needs is raised (the hard limit allows it): with 120 connections
    /// held open, more than a soft limit of 64 allows, an enrolled agent still completes its handshake.
    @Test func aLowSoftLimitIsRaised() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let (port, agent) = try await Self.enrolledAgent(scratch)
        let server = try Harness.start(
            "flightlog",
            Self.serveArguments(scratch, port: port) + ["--max-connections", "300"],
            log: scratch.file("serve.log"),
            openFiles: 64
        )
        defer { Harness.killHard(server) }
        try await Harness.eventuallyAsync(seconds: 60, "server listening", from: server, log: scratch.file("serve.log"))
        {
            Harness.isListening(port)
        }

        let held = try Self.hold(120, port: port)
        defer { for fd in held { close(fd) } }
        let (connection, welcome) = try await agent.open(port: port)
        #expect(welcome.lastSequence == 0)
        await connection.close()

        let limits = try String(contentsOfFile: "/proc/\(server.processIdentifier)/limits", encoding: .utf8)
        let soft = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }?
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first.flatMap { Int($0) }
        #expect((soft ?? 0) >= 300, "\(limits)")
        let log = try String(contentsOfFile: scratch.file("serve.log"), encoding: .utf8)
        #expect(log.contains("Raised the open-file limit from 64 to"), "\(log)")
    }

    /// A hard limit too low for `--max-connections`: the server serves what fits, refuses the next agent at once
    /// with `serverBusy` (instead of leaving it unanswered in the backlog), says so in its log and status, and
    /// serves the agent once connections close.
    @Test func aLowHardLimitRefusesWithServerBusy() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let (port, agent) = try await Self.enrolledAgent(scratch)
        let server = try Harness.start(
            "flightlog",
            Self.serveArguments(scratch, port: port),
            log: scratch.file("serve.log"),
            openFiles: 100,
            hard: 100
        )
        defer { Harness.killHard(server) }
        try await Harness.eventuallyAsync(seconds: 60, "server listening", from: server, log: scratch.file("serve.log"))
        {
            Harness.isListening(port)
        }

        var held = try Self.hold(60, port: port)
        defer { for fd in held { close(fd) } }
        let refused = try await agent.connect(port: port)
        let reply = try await refused.receive()
        guard case .error(let error) = reply else {
            Issue.record("expected ERROR serverBusy, got \(String(describing: reply))")
            return
        }
        #expect(error.code == .serverBusy)
        await refused.close()

        let log = try String(contentsOfFile: scratch.file("serve.log"), encoding: .utf8)
        #expect(log.contains("The open-file limit (soft 100, hard 100,"), "\(log)")
        #expect(log.contains("Refusing connections: at the connection limit"), "\(log)")
        // The status file, read directly: waiting here must not hold a thread the other tests' tasks need.
        try await Harness.eventuallyAsync(seconds: 60, "the status file shows the lowered limit") {
            let counters = Self.counters(scratch.file("flightlog.db.status.json"))
            guard let limit = counters["connections_limit"] else { return false }
            return limit < 100 && (counters["connections_refused_busy"] ?? 0) >= 1
        }

        for fd in held { close(fd) }
        held = []
        try await Harness.eventuallyAsync(seconds: 60, "the agent is served once connections close") {
            // A refusal (serverBusy) comes at once; a short wait per attempt keeps one slow attempt from using up
            // the whole deadline.
            guard let (connection, _) = try? await agent.open(port: port, seconds: 5) else { return false }
            await connection.close()
            return true
        }
    }

    // MARK: - Helpers

    private static func enrolledAgent(_ scratch: TempDirectory) async throws -> (port: Int, agent: TestAgent) {
        let agent = TestAgent(name: "ws-files")
        let enroll = try await Harness.runAsync(
            "flightlog",
            [
                "enroll", "--db", scratch.file("flightlog.db"), "--name", agent.name, "--public-key",
                agent.publicKeyBase64,
            ]
        )
        #expect(enroll.code == 0, "\(enroll.err)")
        return (try Harness.freePort(), agent)
    }

    /// Connections that never say HELLO stay open for the whole test (`--handshake-timeout 600`).
    private static func serveArguments(_ scratch: TempDirectory, port: Int) -> [String] {
        [
            "serve", "--db", scratch.file("flightlog.db"), "--listen", "127.0.0.1:\(port)", "--insecure-plaintext",
            "--handshake-timeout", "600", "--log-level", "info",
        ]
    }

    /// `count` plain TCP connections to the server, held open by the caller.
    private static func hold(_ count: Int, port: Int) throws -> [Int32] {
        var held: [Int32] = []
        for _ in 0..<count {
            guard let fd = Harness.connect(port) else {
                for fd in held { close(fd) }
                throw HarnessError("connection \(held.count + 1) of \(count) to port \(port) failed")
            }
            held.append(fd)
        }
        return held
    }

    /// The counters of a status file (`{"counters": {...}}`), empty while it is missing or half-written.
    private static func counters(_ path: String) -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: path),
            let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let counters = document["counters"] as? [String: Any]
        else { return [:] }
        return counters.compactMapValues { ($0 as? NSNumber)?.intValue }
    }
}

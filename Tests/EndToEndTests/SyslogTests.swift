import FlightlogSystem
import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

/// The real agent as the host's syslog listener, with nothing to watch: `logger` sends over the Unix socket, UDP and
/// TCP, and the messages reach the aggregator's index with their parsed user and address, their source and, from the
/// socket, the sender's credentials. A `kill -9` leaves the socket file behind; the next agent replaces it.
@Suite("End to end: syslog input", .serialized)
struct SyslogTests {
    @Test func loggerMessagesReachTheIndexAndAStaleSocketIsReplaced() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let socketPath = scratch.file("log.sock")
        try await Harness.enrollNewAgent(keyPath: scratch.file("agent.key"), db: db, name: "ws-syslog")
        let port = try Harness.freePort()
        let server = try Harness.startServe(db: db, port: port, log: scratch.file("serve.log"))
        let syslogPort = try Harness.freePort()
        func startAgent() throws -> Subprocess {
            try Harness.start(
                "flightlog-agent",
                [
                    "run", "--aggregator", "127.0.0.1:\(port)", "--key", scratch.file("agent.key"), "--state-dir",
                    scratch.file("state"), "--hostname", "ws-syslog", "--insecure-plaintext", "--flush-interval-ms",
                    "50", "--syslog-unix", socketPath, "--syslog-udp", "127.0.0.1:\(syslogPort)", "--syslog-tcp",
                    "127.0.0.1:\(syslogPort)",
                ],
                log: scratch.file("agent.log")
            )
        }
        var agent = try startAgent()
        defer {
            for process in [agent, server] where process.isRunning { Harness.killHard(process) }
        }
        try Harness.eventually(seconds: 60, "agent listening") { Harness.isListening(syslogPort) }

        // Killed hard, the agent leaves its socket file; the next one finds nobody bound to it and replaces it.
        Harness.killHard(agent)
        #expect(FileStatus.of(path: socketPath) != nil)
        agent = try startAgent()
        try Harness.eventually(seconds: 60, "agent listening again") { Harness.isListening(syslogPort) }

        let sshd = "Failed password for root from 203.0.113.9 port 22 ssh2"
        let sender = try Subprocess("/usr/bin/logger", ["-u", socketPath, "-t", "sshd", "--id=4242", sshd])
        #expect(sender.waitUntilExit() == 0)
        let udp = "Accepted password for mchen from 203.0.113.7 port 4711 ssh2"
        let tcp = "Accepted publickey for akim from 198.51.100.4 port 5000 ssh2"
        #expect(
            try await Subprocess.runAsync(
                "/usr/bin/logger",
                ["--udp", "-n", "127.0.0.1", "-P", String(syslogPort), "--rfc5424", "-t", "sshd", udp]
            ).status == 0
        )
        #expect(
            try await Subprocess.runAsync(
                "/usr/bin/logger",
                ["--tcp", "--octet-count", "-n", "127.0.0.1", "-P", String(syslogPort), "-t", "sshd", tcp]
            ).status == 0
        )

        func query(_ arguments: [String]) async throws -> [[String: Any]] {
            let result = try await Harness.runAsync(
                "flightlog",
                ["query", "--db", db, "--format", "jsonl"] + arguments
            )
            return result.out.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        do {
            try await Harness.eventuallyAsync(seconds: 60, "three messages indexed") {
                try await query(["--program", "sshd"]).count >= 3
            }
        } catch {
            let agentLog = (try? String(contentsOfFile: scratch.file("agent.log"), encoding: .utf8)) ?? ""
            Issue.record("agent log:\n\(agentLog.suffix(3000))")
            throw error
        }
        let root = try await #require(try query(["--user", "root", "--ip", "203.0.113.9"]).first)
        #expect(root["source"] as? String == "syslog:unix:\(socketPath)")
        let fields = try #require(root["fields"] as? [String: Any])
        #expect(fields["peer_pid"] as? String == String(sender.processIdentifier))
        #expect(fields["peer_uid"] as? String == String(getuid()))
        #expect("\(root["process.pid"] ?? "")" == "4242")
        let mchen = try await #require(try query(["--user", "mchen"]).first)
        #expect(mchen["source"] as? String == "syslog:udp:127.0.0.1:\(syslogPort)")
        #expect(mchen["source.ip"] as? String == "203.0.113.7")
        let akim = try await #require(try query(["--user", "akim"]).first)
        #expect(akim["source"] as? String == "syslog:tcp:127.0.0.1:\(syslogPort)")

        agent.terminate()
        #expect(agent.waitUntilExit() == 0)
        #expect(FileStatus.of(path: socketPath) == nil, "the agent removes its socket on stop")
        server.terminate()
        server.waitUntilExit()
    }
}

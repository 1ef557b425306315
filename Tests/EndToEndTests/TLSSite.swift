import FlightlogStore
import FlightlogTLS
import FlightlogTestSupport
import Foundation
import Testing

/// One aggregator with its database, certificates and log; agents are started against it.
final class TLSSite: @unchecked Sendable {
    let scratch: TempDirectory
    let db: String
    let port: Int
    var server: Subprocess?
    var agents: [Subprocess] = []
    let pin: String

    init(
        tlsName: String = "localhost",
        tlsIP: String = "127.0.0.1",
        plaintext: Bool = false,
        enroll: Bool = true
    ) async throws {
        self.scratch = try TempDirectory()
        self.db = self.scratch.file("flightlog.db")
        self.port = try Harness.freePort()
        var arguments = ["tls-init", "--out", self.scratch.file("tls"), "--name", tlsName]
        if !tlsIP.isEmpty { arguments += ["--ip", tlsIP] }
        let made = try await Harness.runAsync("flightlog", arguments)
        guard made.code == 0, let pin = made.out.split(separator: "\n").last(where: { $0.hasPrefix("pin: ") })
        else {
            throw HarnessError("tls-init failed: \(made.err)")
        }
        self.pin = String(pin.dropFirst(5))
        if enroll {
            let keygen = try await Harness.runAsync(
                "flightlog-agent",
                ["keygen", "--key", self.scratch.file("agent.key")]
            )
            let enrolled = try await Harness.runAsync(
                "flightlog",
                ["enroll", "--db", self.db, "--name", "ws-tls", "--public-key", keygen.out.trimmed]
            )
            guard enrolled.code == 0 else { throw HarnessError("enroll failed: \(enrolled.err)") }
        }
        try "first line\n".write(toFile: self.scratch.file("app.log"), atomically: false, encoding: .utf8)
        try self.startServe(plaintext: plaintext)
    }

    func startServe(plaintext: Bool = false, certificate: String? = nil, key: String? = nil) throws {
        var arguments = ["serve", "--db", self.db, "--listen", "127.0.0.1:\(self.port)", "--log-level", "info"]
        if plaintext {
            arguments.append("--insecure-plaintext")
        } else {
            arguments += [
                "--tls-cert", certificate ?? self.scratch.file("tls/server.pem"),
                "--tls-key", key ?? self.scratch.file("tls/server.key"),
            ]
        }
        self.server = try Harness.start("flightlog", arguments, log: self.scratch.file("serve.log"))
    }

    func waitListening() async throws {
        try await Harness.eventuallyAsync(seconds: 60, "serve listens") { Harness.isListening(self.port) }
    }

    @discardableResult
    func startAgent(
        _ trust: [String],
        host: String = "127.0.0.1",
        log: String = "agent.log",
        watch: String = "app.log",
        key: String = "agent.key",
        state: String? = nil
    ) throws -> Subprocess {
        let agent = try Harness.start(
            "flightlog-agent",
            [
                "run", "--aggregator", "\(host):\(self.port)", "--key", self.scratch.file(key),
                "--state-dir", self.scratch.file(state ?? "state-" + log), "--watch", self.scratch.file(watch),
                "--hostname", "ws-tls", "--flush-interval-ms", "50",
            ] + trust,
            log: self.scratch.file(log)
        )
        self.agents.append(agent)
        return agent
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: self.scratch.file(name), encoding: .utf8)) ?? ""
    }

    /// Waits until `name`'s log holds `text`.
    func expectLog(_ name: String, _ text: String, seconds: Double = 60) async throws {
        try await Harness.eventuallyAsync(seconds: seconds, "\(name) says '\(text)'") {
            self.log(name).contains(text)
        }
    }

    /// Waits until the status file's counter `name` is at least 1.
    func expectCounter(_ name: String) async throws {
        try await Harness.eventuallyAsync(seconds: 60, "status counter \(name)") {
            guard let data = FileManager.default.contents(atPath: self.db + ".status.json"),
                let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let counters = document["counters"] as? [String: Any]
            else { return false }
            return ((counters[name] as? NSNumber)?.int64Value ?? 0) >= 1
        }
    }

    /// Waits until `line` is stored.
    func expectStored(_ line: String) async throws {
        try await Harness.eventuallyAsync(seconds: 60, "'\(line)' stored") {
            let result = try await Harness.runAsync(
                "flightlog",
                ["query", "--db", self.db, "--match", "\"\(line)\"", "--count"]
            )
            return result.out.trimmed == "1"
        }
    }

    func stop() {
        for agent in self.agents { Harness.killHard(agent) }
        if let server { Harness.killHard(server) }
        self.scratch.cleanup()
    }
}

extension String {
    var trimmed: String { self.trimmingCharacters(in: .whitespacesAndNewlines) }
}

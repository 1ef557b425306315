import FlightlogTestSupport
import Foundation
import Glibc
import Testing

extension FaultInjectionTests {
    /// The real agent and aggregator with a fault-injecting proxy between them (``FaultProxy``): resets, ACKs lost,
    /// a frame cut in half, a black hole, a slow link. Lines are written all along; once the network is sound again
    /// every line must be indexed exactly once (issue 21: network faults, over plaintext and TLS 1.3).
    @Suite("End to end: network faults through a proxy", .serialized)
    struct NetworkFaultTests {
        /// The agent, the aggregator (heartbeats every second, so that silence is noticed in 3 s) and the proxy; `fault`
        /// runs while a writer adds a chunk of lines every 100 ms.
        private func run(
            _ name: String,
            tls: Bool = false,
            store: SiteStore = .sqlite,
            initialMode: FaultProxy.Mode = .pass(),
            fault: @Sendable (FaultProxy) async throws -> Void,
            check: (FaultProxy, _ agentCounters: String) -> Void
        ) async throws {
            let site = try await EndToEndSite(agent: "ws-net", store: store)
            let (scratch, port) = (site.scratch, site.port)
            defer { scratch.cleanup() }
            let logs = scratch.file("logs")
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            // Over TLS: a private CA and a certificate for 127.0.0.1, the agent trusting the CA's pin.
            var serveTransport = ["--insecure-plaintext"]
            var agentTransport = ["--insecure-plaintext"]
            if tls {
                let made = try await Harness.runAsync(
                    "flightlog",
                    ["tls-init", "--out", scratch.file("tls"), "--name", "localhost", "--ip", "127.0.0.1"]
                )
                guard made.code == 0, let pin = made.out.split(separator: "\n").last(where: { $0.hasPrefix("pin: ") })
                else {
                    throw HarnessError("tls-init failed: \(made.err)")
                }
                serveTransport = [
                    "--tls-cert", scratch.file("tls/server.pem"), "--tls-key", scratch.file("tls/server.key"),
                ]
                agentTransport = ["--pin", String(pin.dropFirst(5))]
            }
            let server = try Harness.start(
                "flightlog",
                ["serve"] + site.serveArguments
                    + ["--listen", "127.0.0.1:\(port)", "--heartbeat", "1", "--log-level", "warning"] + serveTransport,
                log: scratch.file("serve.log")
            )
            defer { if server.isRunning { Harness.killHard(server) } }
            try await Harness.eventuallyAsync(seconds: 60, "server listening") { Harness.isListening(port) }
            let proxy = try FaultProxy(upstreamPort: port)
            defer { proxy.stop() }
            proxy.set(initialMode)
            let agent = try Harness.startAgent(
                scratch: scratch,
                port: proxy.port,
                hostname: "ws-net",
                sources: ["--watch", logs + "/app.log"],
                extra: agentTransport
            )
            defer { if agent.isRunning { Harness.killHard(agent) } }

            let app = LogWriter(path: logs + "/app.log")
            let written = Written()
            let writer = Task {
                var chunk = 0
                while !Task.isCancelled {
                    let lines = (0..<10).map { "\(name) chunk=\(chunk) n=\($0) \(String(repeating: "z", count: 80))" }
                    try app.append(lines)
                    written.add(lines)
                    chunk += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            try await fault(proxy)
            proxy.set(.pass())
            try await Task.sleep(for: .milliseconds(500))
            writer.cancel()
            _ = await writer.result

            try await site.stopAndExpectExactlyOnce(written.lines, agent: agent, server: server)
            // The counters the agent wrote as it stopped.
            let counters = try await Harness.runAsync(
                "flightlog-agent",
                ["status", "--state-dir", scratch.file("state")]
            ).out
            check(proxy, counters)
            let verify = try await site.verify()
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
            await site.close()
        }

        /// The value of counter `name` in `flightlog-agent status` output (0 when absent).
        private static func counter(_ name: String, _ status: String) -> Int {
            let line = status.split(separator: "\n").first { $0.contains(name) }
            return line.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "=" }).last }
                .flatMap { Int($0) } ?? 0
        }

        /// Over TLS a reset is a truncation without close_notify.
        @Test(arguments: [(false, SiteStore.sqlite), (true, .sqlite), (false, .postgres)])
        func connectionsResetMidStream(tls: Bool, store: SiteStore) async throws {
            try await self.run("resets", tls: tls, store: store) { proxy in
                // Four times: wait for the agent's next connection, let it stream, reset it.
                for round in 1...4 {
                    try await Harness.eventuallyAsync(seconds: 30, "connection \(round)") {
                        proxy.statistics.accepted >= round
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    proxy.resetAll()
                }
            } check: { proxy, _ in
                #expect(proxy.statistics.resets >= 4, "\(proxy.statistics)")
            }
        }

        /// ACKs and heartbeats lost for longer than the agent waits: it gives up on the connection, and the batches
        /// the aggregator stored meanwhile are answered from what it holds (the next WELCOME, or a duplicate ACK).
        /// (Plaintext only: over TLS the agent's handshakes fail while the ACKs are dropped, its backoff grows, and the
        /// test took 37 s to show what the plaintext one shows.)
        @Test(arguments: SiteStore.allCases) func acksLostInTransit(store: SiteStore) async throws {
            try await self.run("acks-lost", store: store) { proxy in
                proxy.set(.dropToAgent)
                try await Task.sleep(for: .seconds(4))
            } check: { proxy, counters in
                #expect(proxy.statistics.swallowed > 0)
                let answered =
                    Self.counter("batches_acked_by_welcome", counters)
                    + Self.counter("batches_acked_duplicate", counters)
                #expect(answered >= 1, "\(counters)")
            }
        }

        /// Half of a frame (over TLS: of a TLS record) reaches the aggregator, then both sides are reset: the partial
        /// frame is dropped with its connection, nothing of it is stored, and the agent sends the whole batch again.
        @Test(arguments: [(false, SiteStore.sqlite), (true, .sqlite), (false, .postgres)])
        func aFrameCutInHalf(tls: Bool, store: SiteStore) async throws {
            try await self.run("cut", tls: tls, store: store) { proxy in
                proxy.set(.cutNextChunk)
                try await Task.sleep(for: .seconds(1))
            } check: { proxy, _ in
                #expect(proxy.statistics.cut == 1)
            }
        }

        @Test func aBlackHoleThenRecovery() async throws {
            try await self.run("black-hole") { proxy in
                proxy.set(.blackHole)
                try await Task.sleep(for: .seconds(4))
            } check: { proxy, _ in
                #expect(proxy.statistics.accepted >= 2, "the agent gave up on the silent connection and came back")
            }
        }

        /// 20 ms a chunk and 50 kB/s all along.
        @Test func aSlowLink() async throws {
            try await self.run("slow", initialMode: .pass(delayMilliseconds: 20, bytesPerSecond: 50_000)) { proxy in
                proxy.set(.pass(delayMilliseconds: 20, bytesPerSecond: 50_000))
                try await Task.sleep(for: .seconds(2))
            } check: { _, _ in
            }
        }
    }
}

/// Lines written so far, shared between the writer task and the test.
private final class Written: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [String] = []
    func add(_ lines: [String]) { self.lock.withLock { self.all += lines } }
    var lines: [String] { self.lock.withLock { self.all } }
}

import FlightlogTestSupport
import Foundation
import Testing

/// Prometheus scrapes a running `serve` and agent (issue 27): real processes, real HTTP through curl, the text
/// format checked line by line, the numbers checked against what was shipped, and the sample alert rules checked
/// against the names a real scrape exports.
@Suite("Metrics: Prometheus scrapes serve and the agent", .serialized)
struct MetricsEndpointTests {
    @Test func serveAndAgentExportWhatHappened() async throws {
        let site = try await EndToEndSite(agent: "cc-ws-metrics")
        defer { site.scratch.cleanup() }
        let metricsPort = try Harness.freePort()
        let agentMetricsPort = try Harness.freePort()
        let lines = (1...5).map {
            "2026-12-07T09:0\($0):00+00:00 cc-ws-metrics sshd[10\($0)]: Accepted password for u\($0)"
        }
        let log = site.scratch.file("auth.log")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: log))

        let server = try Subprocess(
            try Executables.path("flightlog"),
            [
                "serve", "--db", site.db, "--listen", "127.0.0.1:\(site.port)", "--insecure-plaintext",
                "--log-level", "warning", "--heartbeat", "1", "--metrics-listen", "127.0.0.1:\(metricsPort)",
            ],
            stdout: site.scratch.file("serve.log"),
            stderr: site.scratch.file("serve.log")
        )
        defer { Harness.killHard(server) }
        try await Harness.eventuallyAsync(seconds: 60, "serve and its metrics endpoint listening") {
            Harness.isListening(site.port) && Harness.isListening(metricsPort)
        }
        let agent = try site.startAgent(
            sources: ["--watch", log],
            extra: ["--insecure-plaintext", "--metrics-listen", "127.0.0.1:\(agentMetricsPort)"]
        )
        defer { Harness.killHard(agent) }
        try await site.index.waitFor(count: lines.count, scratch: site.scratch)

        // The agent's heartbeat (one per idle second here) carries its counters to the aggregator.
        let label = "{agent=\"cc-ws-metrics\"}"
        var exposition = ""
        try await Harness.eventuallyAsync(seconds: 30, "the agent's heartbeat counters in the aggregator's scrape") {
            exposition = try await Self.get(metricsPort).body
            return exposition.contains("flightlog_agent_lines_read_total\(label) 5.0")
        }
        let samples = try Self.parse(exposition)
        // The lines and the agent's own lifecycle events (its start), counted by the agent as built.
        #expect((samples["flightlog_events_stored_total"] ?? 0) >= 5)
        #expect((samples["flightlog_batches_stored_total"] ?? 0) >= 1)
        #expect(samples["flightlog_handshakes_accepted_total"] == 1)
        #expect(samples["flightlog_commit_failures_total"] == 0, "present at 0 before any failure")
        #expect(samples["flightlog_agents_enrolled"] == 1)
        #expect(samples["flightlog_store_readable"] == 1)
        #expect((samples["flightlog_commit_duration_seconds_count"] ?? 0) >= 1)
        #expect((samples["flightlog_batch_durable_latency_seconds_count"] ?? 0) >= 1)
        #expect(samples["flightlog_agent_spool_batches\(label)"] == 0)
        #expect(samples["flightlog_agent_reading_paused\(label)"] == 0)
        #expect((samples["flightlog_agent_spool_max_bytes\(label)"] ?? 0) > 0)
        let now = Date().timeIntervalSince1970
        let lastSeen = samples["flightlog_agent_last_seen_timestamp_seconds\(label)"] ?? 0
        #expect(abs(now - lastSeen) < 120, "last seen \(lastSeen), now \(now)")
        #expect(!exposition.contains("not catalogued"), "every counter serve keeps has a documented name")

        // A verify run is exported with its mode and findings.
        let verify = try await Harness.runAsync("flightlog", ["verify", "--db", site.db])
        #expect(verify.code == 0, "\(verify.err)")
        let afterVerify = try Self.parse(try await Self.get(metricsPort).body)
        #expect(afterVerify["flightlog_verify_last_findings{mode=\"full\"}"] == 0)
        #expect((afterVerify["flightlog_verify_last_run_timestamp_seconds{mode=\"full\"}"] ?? 0) > now - 120)

        // The agent's own endpoint.
        let own = try await Self.get(agentMetricsPort)
        #expect(own.status == 200)
        let agentSamples = try Self.parse(own.body)
        #expect(agentSamples["flightlog_agent_lines_read_total"] == 5)
        #expect((agentSamples["flightlog_agent_batches_acked_total"] ?? 0) >= 1)
        #expect(agentSamples["flightlog_agent_spool_batches"] == 0)
        #expect(agentSamples["flightlog_agent_events_built_total"] == afterVerify["flightlog_events_stored_total"])
        #expect(!own.body.contains("not catalogued"), "every counter the agent keeps has a documented name")

        // Only /metrics is served.
        #expect(try await Self.get(metricsPort, path: "/other").status == 404)
        #expect(try await Self.get(metricsPort, method: "POST").status == 405)

        // An agent pointed at the metrics port by mistake is told what answered and where serve listens.
        let lost = try Harness.startAgent(
            scratch: site.scratch,
            port: metricsPort,
            hostname: "cc-ws-lost",
            sources: ["--watch", log],
            state: "lost-state",
            log: "lost-agent.log"
        )
        defer { Harness.killHard(lost) }
        try await Harness.eventuallyAsync(seconds: 30, "the lost agent's hint") {
            let text = (try? String(contentsOfFile: site.scratch.file("lost-agent.log"), encoding: .utf8)) ?? ""
            return text.contains("answered \"HTTP…\": an HTTP server") && text.contains("flightlog serve --listen")
        }

        // Every metric the sample alerts use is in these scrapes (a renamed metric would silence an alert).
        let rules = try String(
            contentsOfFile: RepositoryFiles.root.appendingPathComponent("aggregator/prometheus/flightlog-alerts.yml")
                .path,
            encoding: .utf8
        )
        let exported = Set(samples.keys.map { Self.family(of: $0) } + afterVerify.keys.map { Self.family(of: $0) })
        let used = Set(
            rules.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init).filter {
                $0.hasPrefix("flightlog_")
            }.map { Self.family(of: $0) }
        )
        #expect(used.count >= 8)
        for name in used.sorted() {
            #expect(exported.contains(name), "the alert rules use \(name), which the aggregator does not export")
        }
    }

    @Test func anAgentRefusesANonLoopbackMetricsAddress() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let run = try await Harness.runAsync(
            "flightlog-agent",
            [
                "run", "--aggregator", "127.0.0.1:7514", "--insecure-plaintext", "--key", scratch.file("k"),
                "--state-dir", scratch.file("state"), "--watch", scratch.file("x.log"), "--metrics-listen",
                "0.0.0.0:9465",
            ]
        )
        #expect(run.code == 2)
        #expect(run.err.contains("metrics_listen must be a loopback address"), "\(run.err)")
    }

    // MARK: - Helpers

    /// An HTTP request through curl: the status and the body.
    static func get(
        _ port: Int,
        path: String = "/metrics",
        method: String = "GET"
    ) async throws -> (
        status: Int, body: String
    ) {
        let result = try await Subprocess.runAsync(
            "/usr/bin/curl",
            ["-sS", "-X", method, "--max-time", "20", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"]
        )
        guard result.status == 0, let newline = result.stdout.lastIndex(of: "\n"),
            let status = Int(result.stdout[result.stdout.index(after: newline)...])
        else { throw HarnessError("curl failed (\(result.status)): \(result.stderr)") }
        return (status, String(result.stdout[..<newline]))
    }

    /// The samples of a text exposition by series (`name{labels}`), after checking every line against the format:
    /// a `# HELP`/`# TYPE` line, or `name{label="value",…} number` of a family whose TYPE came first.
    static func parse(_ text: String) throws -> [String: Double] {
        var typed: Set<String> = []
        var samples: [String: Double] = [:]
        let sample =
            /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)$/
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3])
                else { throw HarnessError("bad TYPE line: \(line)") }
                typed.insert(String(parts[2]))
                continue
            }
            guard let match = try sample.wholeMatch(in: String(line)), let value = Double(match.output.3) else {
                throw HarnessError("not a Prometheus sample line: \(line)")
            }
            let name = String(match.output.1)
            guard typed.contains(Self.family(of: name)) else { throw HarnessError("sample before its TYPE: \(line)") }
            samples[name + (match.output.2.map(String.init) ?? "")] = value
        }
        return samples
    }

    /// The family a series belongs to: its name without labels or a histogram's `_bucket`/`_sum`/`_count`.
    static func family(of series: String) -> String {
        let name = String(series.prefix { $0 != "{" })
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if base.hasSuffix("_seconds") { return base }
        }
        return name
    }
}

import FlightlogMetrics
import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogAgent

/// The agent's own metrics: documented names, loopback only.
@Suite("Metrics: the agent's exposition")
struct AgentExpositionTests {
    @Test func everyNameIsDocumented() throws {
        let doc = try String(
            contentsOf: RepositoryFiles.root.appendingPathComponent("docs/METRICS.md"),
            encoding: .utf8
        )
        #expect(AgentExposition.catalog.entries.count >= 30)
        for entry in AgentExposition.catalog.entries.values {
            #expect(doc.contains("`\(entry.name)`"), "docs/METRICS.md does not list \(entry.name)")
        }
    }

    @Test func millisecondsAndNanosecondsBecomeSeconds() {
        let text = AgentExposition.render(
            counters: ["spool_full_ms": 1500, "last_ack_ns": 2_000_000_000, "lines_read": 7],
            spoolBatches: 2,
            spoolBytes: 100,
            spoolMaxBytes: 1000
        )
        #expect(text.contains("flightlog_agent_spool_full_seconds_total 1.5"))
        #expect(text.contains("flightlog_agent_last_ack_timestamp_seconds 2.0"))
        #expect(text.contains("flightlog_agent_lines_read_total 7"))
        #expect(text.contains("flightlog_agent_spool_batches 2.0"))
        #expect(text.contains("flightlog_agent_reading_paused 0.0"))
    }

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
    func loopbackAddressesAreAccepted(host: String) {
        #expect(AgentConfiguration.isLoopback(host))
    }

    @Test(arguments: ["0.0.0.0", "10.0.0.5", "::", "127.evil.example", "example.com"])
    func otherAddressesAreRefused(host: String) {
        #expect(!AgentConfiguration.isLoopback(host))
    }
}

import FlightlogMetrics
import FlightlogStore
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogAggregator

/// What the aggregator's metrics endpoint keeps and says, without sockets (the scrape of a real `serve` is in
/// EndToEndTests/MetricsEndpointTests).
@Suite("Metrics: the aggregator's exposition")
struct AggregatorExpositionTests {
    /// Counter names come from the agent: only the documented ones are kept, so a compromised agent sending 64
    /// made-up names per heartbeat grows neither memory nor the scrape.
    @Test func onlyDocumentedHeartbeatCountersAreKept() {
        let metrics = AggregatorMetrics()
        let heartbeat = Heartbeat(
            timeNanos: 1_000_000_000,
            counters: [.init(name: "spool_batches", value: 3), .init(name: "evil\"} 1\n# TYPE x counter", value: 9)]
                + (0..<60).map { .init(name: "made_up_\($0)", value: 1) }
        )
        metrics.noteHeartbeat(agent: "cc-ws-001", heartbeat, receivedNanos: 2_000_000_000)
        #expect(metrics.agentReports["cc-ws-001"]?.counters == ["spool_batches": 3])
        let text = AggregatorExposition.render(
            metrics: metrics,
            agents: [.init(name: "cc-ws-001", lastSeenNanos: 1_500_000_000, openFindings: 0, gaps: 0)],
            verifyRuns: []
        )
        #expect(text.contains("flightlog_agent_spool_batches{agent=\"cc-ws-001\"} 3.0"))
        #expect(text.contains("flightlog_agent_clock_offset_seconds{agent=\"cc-ws-001\"} -1.0"))
        // The heartbeat is later than the stored last-seen time: the later one wins.
        #expect(text.contains("flightlog_agent_last_seen_timestamp_seconds{agent=\"cc-ws-001\"} 2.0"))
        #expect(!text.contains("made_up") && !text.contains("evil"))
    }

    @Test func anUnreadableStoreIsSaidNotHidden() {
        let text = AggregatorExposition.render(metrics: AggregatorMetrics(), agents: nil, verifyRuns: nil)
        #expect(text.contains("flightlog_store_readable 0.0"))
        #expect(!text.contains("flightlog_agents_enrolled"))
        #expect(text.contains("flightlog_commit_failures_total 0"), "unlabelled counters exist from the start")
    }

    @Test func labelledCountersGetTheirLabelAndUnknownKeysAreMarked() {
        let metrics = AggregatorMetrics()
        metrics.add("errors_sent.windowExceeded", 2)
        metrics.add("brand_new_counter")
        let text = AggregatorExposition.render(metrics: metrics, agents: [], verifyRuns: [])
        #expect(text.contains("flightlog_errors_sent_total{code=\"windowExceeded\"} 2"))
        #expect(text.contains("# HELP flightlog_brand_new_counter \(MetricCatalog.uncataloguedHelp)"))
    }

    /// docs/METRICS.md lists every name the aggregator exports.
    @Test func everyNameIsDocumented() throws {
        let doc = try String(
            contentsOf: RepositoryFiles.root.appendingPathComponent("docs/METRICS.md"),
            encoding: .utf8
        )
        let names = AggregatorExposition.catalog.entries.values.map(\.name)
        let metrics = AggregatorMetrics()
        let everything = Heartbeat(
            timeNanos: 1,
            counters: AggregatorExposition.reportedCounters.sorted().map { .init(name: $0, value: 1) }
        )
        metrics.noteHeartbeat(agent: "a", everything, receivedNanos: 1)
        let text = AggregatorExposition.render(
            metrics: metrics,
            agents: [.init(name: "a", lastSeenNanos: 1, openFindings: 0, gaps: 0)],
            verifyRuns: [
                try JSONDecoder().decode(
                    VerifyRun.self,
                    from: Data(
                        """
                        {"id": 1, "startedNanos": 1, "finishedNanos": 2, "mode": "full", "scope": "all",
                         "outcome": "clean", "batches": 0, "events": 0, "findings": 0, "treeSize": 0, "summary": ""}
                        """.utf8
                    )
                )
            ]
        )
        let rendered = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map {
            String($0.split(separator: " ")[2])
        }
        #expect(names.count >= 30)
        for name in Set(names + rendered).sorted() {
            #expect(doc.contains("`\(name)`"), "docs/METRICS.md does not list \(name)")
        }
    }
}

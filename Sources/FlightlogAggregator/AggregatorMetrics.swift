public import CoreMetrics
import FlightlogMetrics
import FlightlogWire
import NIOConcurrencyHelpers
import NIOCore
public import Prometheus

/// Running counters of the aggregator: connections, handshakes, batches by outcome, events, bytes; the latency
/// histograms; and what each agent last reported in its heartbeats.
///
/// Readable while serving through the status file (`flightlog status`) and, with `--metrics-listen`, in the
/// Prometheus text format (``AggregatorExposition``, docs/METRICS.md).
public final class AggregatorMetrics: Sendable {
    private let counters = NIOLockedValueBox<[String: Int64]>([:])
    private let reports = NIOLockedValueBox<[String: AgentReport]>([:])

    /// The histograms, which keep their buckets between scrapes (the counters are registered afresh at each one).
    public let registry = PrometheusCollectorRegistry()
    /// Seconds one group commit's transaction takes (the store's `ingest`, fsync included).
    public let commitDuration: CoreMetrics.Timer
    /// Seconds from a verified batch handed to the committer to its transaction's outcome: what an agent waits for
    /// its ACK beyond the network.
    public let batchDurableLatency: CoreMetrics.Timer

    public init() {
        // 1 ms to 10 s: a commit on a healthy disk takes a few ms, a fsync stall seconds.
        let buckets: [Duration] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        self.commitDuration = CoreMetrics.Timer(
            label: "flightlog_commit_duration_seconds",
            dimensions: [],
            handler: self.registry.durationHistogram(
                "flightlog_commit_duration_seconds",
                buckets: buckets,
                help: "Seconds one group commit's transaction took, fsync included"
            )
        )
        self.batchDurableLatency = CoreMetrics.Timer(
            label: "flightlog_batch_durable_latency_seconds",
            dimensions: [],
            handler: self.registry.durationHistogram(
                "flightlog_batch_durable_latency_seconds",
                buckets: buckets,
                help: "Seconds from a verified batch queued for commit to its transaction's outcome (its ACK is due)"
            )
        )
    }

    /// Adds `amount` to the counter `name`.
    public func add(_ name: String, _ amount: Int64 = 1) {
        self.counters.withLockedValue { $0[name, default: 0] += amount }
    }

    /// Sets the gauge `name` to `value`.
    public func set(_ name: String, _ value: Int64) {
        self.counters.withLockedValue { $0[name] = value }
    }

    /// A copy of every counter.
    public var snapshot: [String: Int64] {
        self.counters.withLockedValue { $0 }
    }

    /// The value of one counter.
    public subscript(name: String) -> Int64 {
        self.counters.withLockedValue { $0[name] ?? 0 }
    }

    // MARK: - What agents report

    /// What one agent said in its last HEARTBEAT with counters (PROTOCOL.md §4.7).
    public struct AgentReport: Sendable, Equatable {
        /// The counters ``AggregatorExposition/reportedCounters`` names; others are not kept (the names come from the
        /// agent, and an agent must not grow the aggregator's memory or its scrape with made-up names).
        public var counters: [String: UInt64]
        /// The agent's clock when it sent the heartbeat.
        public var agentTimeNanos: Int64
        /// The aggregator's clock when it arrived.
        public var receivedNanos: Int64

        public init(counters: [String: UInt64], agentTimeNanos: Int64, receivedNanos: Int64) {
            self.counters = counters
            self.agentTimeNanos = agentTimeNanos
            self.receivedNanos = receivedNanos
        }
    }

    /// Keeps what an authenticated agent reported; one entry per agent name, replaced at each heartbeat.
    func noteHeartbeat(agent: String, _ heartbeat: Heartbeat, receivedNanos: Int64) {
        var kept: [String: UInt64] = [:]
        for counter in heartbeat.counters where AggregatorExposition.reportedCounters.contains(counter.name) {
            kept[counter.name] = counter.value
        }
        let report = AgentReport(counters: kept, agentTimeNanos: heartbeat.timeNanos, receivedNanos: receivedNanos)
        self.reports.withLockedValue { $0[agent] = report }
    }

    /// The last report of every agent heard from since `serve` started, by agent name.
    public var agentReports: [String: AgentReport] {
        self.reports.withLockedValue { $0 }
    }
}

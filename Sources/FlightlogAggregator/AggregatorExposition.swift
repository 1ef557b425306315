public import FlightlogMetrics
public import FlightlogStore
import Prometheus

/// The aggregator's Prometheus exposition: its own counters, gauges and histograms, one series per enrolled agent
/// from the store and the agents' heartbeats (2,000 desktops are not scraped one by one), and the last `verify` run
/// of each mode. Every name is in docs/METRICS.md.
public enum AggregatorExposition {
    /// The aggregator's counters (``AggregatorMetrics``), by the key the code counts them under.
    public static let catalog = MetricCatalog(
        prefix: "flightlog_",
        [
            "connections_accepted": .init("flightlog_connections_accepted_total", .counter, "TCP connections accepted"),
            "connections_refused_busy": .init(
                "flightlog_connections_refused_busy_total",
                .counter,
                "Connections refused at --max-connections"
            ),
            "connections_active": .init("flightlog_connections_active", .gauge, "Connections being served"),
            "connections_limit": .init(
                "flightlog_connections_limit",
                .gauge,
                "Connections served at once (after the open-file limit)"
            ),
            "connections_waiting_for_memory": .init(
                "flightlog_connections_waiting_for_memory",
                .gauge,
                "Connections waiting for room in the commit queue before decoding a batch"
            ),
            "accept_errors": .init("flightlog_accept_errors_total", .counter, "Errors accepting connections (EMFILE…)"),
            "handshakes_accepted": .init("flightlog_handshakes_accepted_total", .counter, "Agents welcomed"),
            "handshakes_rejected": .init(
                "flightlog_handshakes_rejected_total",
                .counter,
                "Handshakes refused, by ERROR code",
                label: "code"
            ),
            "handshakes_timed_out": .init(
                "flightlog_handshakes_timed_out_total",
                .counter,
                "Connections closed before completing a handshake"
            ),
            "sessions_timed_out": .init(
                "flightlog_sessions_timed_out_total",
                .counter,
                "Sessions closed after 3 heartbeat intervals of silence"
            ),
            "sessions_replaced": .init(
                "flightlog_sessions_replaced_total",
                .counter,
                "Older sessions closed by the same agent's new one"
            ),
            "idle_while_paused": .init(
                "flightlog_idle_while_paused_total",
                .counter,
                "Idle timeouts forgiven because the server itself had stopped reading"
            ),
            "enrolments": .init("flightlog_enrolments_total", .counter, "Agents enrolled with a token"),
            "enrolments_refused": .init(
                "flightlog_enrolments_refused_total",
                .counter,
                "Enrolments refused, by reason",
                label: "reason"
            ),
            "enrolment_rate_limited": .init(
                "flightlog_enrolment_rate_limited_total",
                .counter,
                "Enrolments refused by the per-address rate limit"
            ),
            "rotations": .init("flightlog_key_rotations_total", .counter, "Agent key rotations accepted"),
            "rotations_refused": .init(
                "flightlog_key_rotations_refused_total",
                .counter,
                "Agent key rotations refused"
            ),
            "bytes_received": .init("flightlog_batch_bytes_received_total", .counter, "Bytes of BATCH frames received"),
            "batches_decoded": .init("flightlog_batches_decoded_total", .counter, "Batches verified and queued"),
            "batches_stored": .init("flightlog_batches_stored_total", .counter, "Batches stored and acknowledged"),
            "batches_duplicate": .init(
                "flightlog_batches_duplicate_total",
                .counter,
                "Batches already stored, acknowledged again"
            ),
            "batches_rejected": .init(
                "flightlog_batches_rejected_total",
                .counter,
                "Batches refused (a finding is recorded), by ERROR code",
                label: "code"
            ),
            "batches_held_back": .init(
                "flightlog_batches_held_back_total",
                .counter,
                "Batches not stored because an earlier batch of their session was not; resent by their agent"
            ),
            "events_stored": .init("flightlog_events_stored_total", .counter, "Events stored"),
            "window_exceeded": .init(
                "flightlog_window_exceeded_total",
                .counter,
                "Sessions ended for sending past the ack window"
            ),
            "frames_rejected": .init(
                "flightlog_frames_rejected_total",
                .counter,
                "Undecodable frames, by ERROR code",
                label: "code"
            ),
            "errors_sent": .init("flightlog_errors_sent_total", .counter, "ERROR frames sent, by code", label: "code"),
            "commits": .init("flightlog_commits_total", .counter, "Group commits (transactions) that succeeded"),
            "commit_failures": .init(
                "flightlog_commit_failures_total",
                .counter,
                "Group commits that failed: their batches were not acknowledged and will be sent again"
            ),
            "commit_us": .init(
                "flightlog_commit_seconds_total",
                .counter,
                "Seconds spent in group commits",
                scale: 1e-6
            ),
            "commit_queue_batches": .init(
                "flightlog_commit_queue_batches",
                .gauge,
                "Verified batches waiting for the next group commit"
            ),
            "commit_batches_in_transaction": .init(
                "flightlog_commit_batches_in_transaction",
                .gauge,
                "Batches in the transaction being committed"
            ),
            "fts_indexed_through": .init(
                "flightlog_fulltext_indexed_through",
                .gauge,
                "Last event id the full-text index holds"
            ),
            "fts_lag_events": .init(
                "flightlog_fulltext_lag_events",
                .gauge,
                "Stored events not yet in the full-text index (--match misses them)"
            ),
            "fts_attrs_lag_events": .init(
                "flightlog_fulltext_attributes_lag_events",
                .gauge,
                "Stored events not yet in the attribute index"
            ),
            "fts_indexer_failing": .init(
                "flightlog_fulltext_indexer_failing",
                .gauge,
                "1 while full-text indexing fails and retries"
            ),
            "fts_errors": .init("flightlog_fulltext_errors_total", .counter, "Failed full-text indexing attempts"),
            "tls_failures": .init(
                "flightlog_tls_failures_total",
                .counter,
                "TLS handshakes that failed, by reason",
                label: "reason"
            ),
            "tls_reloads": .init("flightlog_tls_reloads_total", .counter, "Certificate reloads"),
            "tls_reload_failures": .init(
                "flightlog_tls_reload_failures_total",
                .counter,
                "Certificate reloads that failed (the old one stays)"
            ),
        ]
    )

    /// The heartbeat counters kept per agent (``AggregatorMetrics/noteHeartbeat(agent:_:receivedNanos:)``), as the
    /// agent names them (agent/README.md).
    public static let reportedCounters: Set<String> = [
        "spool_batches", "spool_bytes", "spool_max_bytes", "spool_full", "spool_full_ms", "spool_write_failed_ms",
        "reading_paused",
        "lines_read", "events_built", "syslog_dropped", "journal_entries_missed", "read_errors", "last_ack_ns",
        "reconnects", "files_vanished",
    ]

    /// One enrolled agent as the store knows it.
    public struct AgentRow: Sendable {
        public var name: String
        public var lastSeenNanos: Int64?
        public var openFindings: Int
        public var gaps: Int

        public init(name: String, lastSeenNanos: Int64?, openFindings: Int, gaps: Int) {
            self.name = name
            self.lastSeenNanos = lastSeenNanos
            self.openFindings = openFindings
            self.gaps = gaps
        }

        /// The agents a summary lists that are not revoked.
        public static func enrolled(_ summaries: [AgentSummary]) -> [AgentRow] {
            summaries.filter { $0.agent.revokedNanos == nil }.map {
                AgentRow(
                    name: $0.agent.name,
                    lastSeenNanos: $0.agent.lastSeenNanos,
                    openFindings: $0.openFindings,
                    gaps: $0.gaps
                )
            }
        }
    }

    /// The whole exposition. `agents` and `verifyRuns` are nil when the store could not be read for this scrape
    /// (`flightlog_store_readable` then says 0, and the agent series are missing rather than wrong).
    public static func render(metrics: AggregatorMetrics, agents: [AgentRow]?, verifyRuns: [VerifyRun]?) -> String {
        let registry = PrometheusCollectorRegistry()
        Self.catalog.register(metrics.snapshot, in: registry)
        registry.gauge(
            "flightlog_store_readable",
            help: "1 when this scrape could read the agents and verify runs from the database"
        ).set(agents != nil && verifyRuns != nil ? 1.0 : 0.0)
        if let agents { Self.register(agents, reports: metrics.agentReports, in: registry) }
        for run in verifyRuns ?? [] {
            let mode = [("mode", run.mode)]
            registry.gauge(
                "flightlog_verify_last_run_timestamp_seconds",
                labels: mode,
                help: "When the last `flightlog verify` of this mode finished"
            ).set(Double(run.finishedNanos) / 1e9)
            registry.gauge(
                "flightlog_verify_last_findings",
                labels: mode,
                help: "Findings of the last `flightlog verify` of this mode (0: clean)"
            ).set(Double(run.findings))
        }
        return registry.emitToString() + metrics.registry.emitToString()
    }

    private static func register(
        _ agents: [AgentRow],
        reports: [String: AggregatorMetrics.AgentReport],
        in registry: PrometheusCollectorRegistry
    ) {
        registry.gauge("flightlog_agents_enrolled", help: "Agents enrolled and not revoked")
            .set(Double(agents.count))
        for agent in agents {
            let label = [("agent", agent.name)]
            let report = reports[agent.name]
            let lastSeen = max(agent.lastSeenNanos ?? 0, report?.receivedNanos ?? 0)
            func gauge(_ name: String, _ help: String, _ value: Double) {
                registry.gauge(name, labels: label, help: help).set(value)
            }
            func counter(_ name: String, _ help: String, _ value: Double) {
                registry.counter(name, labels: label, help: help).increment(by: value)
            }
            if lastSeen > 0 {
                gauge(
                    "flightlog_agent_last_seen_timestamp_seconds",
                    "When the agent was last heard from (a session, a batch or a heartbeat)",
                    Double(lastSeen) / 1e9
                )
            }
            gauge(
                "flightlog_agent_open_findings",
                "Findings recorded against the agent (gaps, refusals…)",
                Double(agent.openFindings)
            )
            gauge("flightlog_agent_gaps", "Gaps found in the agent's chain", Double(agent.gaps))
            guard let report else { continue }
            let value = { (name: String) in Double(report.counters[name] ?? 0) }
            gauge(
                "flightlog_agent_report_timestamp_seconds",
                "When the agent's last heartbeat with counters arrived (since this serve started)",
                Double(report.receivedNanos) / 1e9
            )
            gauge(
                "flightlog_agent_clock_offset_seconds",
                "The agent's clock minus the aggregator's at its last heartbeat",
                Double(report.agentTimeNanos - report.receivedNanos) / 1e9
            )
            gauge(
                "flightlog_agent_spool_batches",
                "Batches in the agent's spool not yet acknowledged",
                value("spool_batches")
            )
            gauge("flightlog_agent_spool_bytes", "Bytes of the agent's spool", value("spool_bytes"))
            gauge(
                "flightlog_agent_spool_max_bytes",
                "The agent's spool cap (its spool_max_bytes)",
                value("spool_max_bytes")
            )
            gauge(
                "flightlog_agent_reading_paused",
                "1 while the agent has stopped reading (spool full or not writable)",
                value("reading_paused")
            )
            counter(
                "flightlog_agent_reading_paused_seconds_total",
                "Seconds the agent's reading was paused (spool full or not writable)",
                (value("spool_full_ms") + value("spool_write_failed_ms")) / 1000
            )
            counter("flightlog_agent_lines_read_total", "Lines the agent read from files", value("lines_read"))
            counter("flightlog_agent_events_built_total", "Events the agent put into batches", value("events_built"))
            counter("flightlog_agent_reconnects_total", "Times the agent reconnected", value("reconnects"))
            counter("flightlog_agent_read_errors_total", "Errors reading the agent's sources", value("read_errors"))
            for (reason, key) in [("syslog_dropped", "syslog_dropped"), ("journal_missed", "journal_entries_missed")] {
                registry.counter(
                    "flightlog_agent_lines_not_kept_total",
                    labels: label + [("reason", reason)],
                    help: "Lines the agent could not keep: syslog messages dropped, journal entries gone before read"
                ).increment(by: value(key))
            }
            // How long the oldest unacknowledged batch may have waited: since the last ack, while batches wait.
            let lastAck = value("last_ack_ns")
            let lag =
                value("spool_batches") > 0 && lastAck > 0 ? max(0, Double(report.agentTimeNanos) - lastAck) / 1e9 : 0
            gauge(
                "flightlog_agent_ack_lag_seconds",
                "Seconds since the agent's last ACK while it has batches waiting (0 when its spool is empty)",
                lag
            )
        }
    }
}

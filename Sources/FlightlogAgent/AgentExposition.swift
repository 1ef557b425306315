import FlightlogMetrics
import Prometheus

/// The agent's own Prometheus exposition (`--metrics-listen`, loopback only, off by default): the counters it also
/// writes to `status.json` and ships in its heartbeats, under the names docs/METRICS.md lists.
enum AgentExposition {
    static let catalog = MetricCatalog(
        prefix: "flightlog_agent_",
        [
            "lines_read": .init("flightlog_agent_lines_read_total", .counter, "Lines read from watched files"),
            "lines_split": .init(
                "flightlog_agent_lines_split_total",
                .counter,
                "Over-long lines split into several events"
            ),
            "events_built": .init("flightlog_agent_events_built_total", .counter, "Events put into batches"),
            "events_refused": .init(
                "flightlog_agent_events_refused_total",
                .counter,
                "Events over a wire limit that parsing does not cut, not kept (logged)"
            ),
            "batches_built": .init("flightlog_agent_batches_built_total", .counter, "Batches signed and spooled"),
            "batches_sent": .init("flightlog_agent_batches_sent_total", .counter, "BATCH frames sent (resends too)"),
            "batches_acked": .init("flightlog_agent_batches_acked_total", .counter, "Batches acknowledged as stored"),
            "batches_acked_duplicate": .init(
                "flightlog_agent_batches_acked_duplicate_total",
                .counter,
                "Batches acknowledged as already stored"
            ),
            "batches_acked_by_welcome": .init(
                "flightlog_agent_batches_acked_by_welcome_total",
                .counter,
                "Spooled batches the aggregator already held at reconnection"
            ),
            "last_acked_sequence": .init(
                "flightlog_agent_last_acked_sequence",
                .gauge,
                "Sequence of the last acknowledged batch"
            ),
            "last_ack_ns": .init(
                "flightlog_agent_last_ack_timestamp_seconds",
                .gauge,
                "When the last ACK arrived",
                scale: 1e-9
            ),
            "connected_since_ns": .init(
                "flightlog_agent_connected_since_timestamp_seconds",
                .gauge,
                "When the current session with the aggregator began (0: not connected yet)",
                scale: 1e-9
            ),
            "spool_batches": .init("flightlog_agent_spool_batches", .gauge, "Batches spooled, not yet acknowledged"),
            "spool_bytes": .init("flightlog_agent_spool_bytes", .gauge, "Bytes of the spool"),
            "spool_max_bytes": .init("flightlog_agent_spool_max_bytes", .gauge, "The spool's cap (spool_max_bytes)"),
            "spool_full": .init(
                "flightlog_agent_spool_full_total",
                .counter,
                "Times reading paused because the spool was full"
            ),
            "spool_full_ms": .init(
                "flightlog_agent_spool_full_seconds_total",
                .counter,
                "Seconds reading was paused by a full spool",
                scale: 1e-3
            ),
            "spool_write_failures": .init(
                "flightlog_agent_spool_write_failures_total",
                .counter,
                "Times the spool or state could not be written"
            ),
            "spool_write_failed_ms": .init(
                "flightlog_agent_spool_write_failed_seconds_total",
                .counter,
                "Seconds reading was paused because the spool could not be written",
                scale: 1e-3
            ),
            "reading_paused": .init(
                "flightlog_agent_reading_paused",
                .gauge,
                "1 while reading is paused (spool full or not writable)"
            ),
            "reconnects": .init("flightlog_agent_reconnects_total", .counter, "Connections to the aggregator retried"),
            "errors_received": .init(
                "flightlog_agent_errors_received_total",
                .counter,
                "ERROR frames received from the aggregator"
            ),
            "tls_failures": .init("flightlog_agent_tls_failures_total", .counter, "TLS handshakes that failed"),
            "resume_hash_mismatch": .init(
                "flightlog_agent_resume_hash_mismatch_total",
                .counter,
                "Reconnections where the aggregator's chain head disagreed with the spool (an alarm)"
            ),
            "resends_past_welcome": .init(
                "flightlog_agent_resends_past_welcome_total",
                .counter,
                "Reconnections where the aggregator's head passed a batch it said it did not store (sent again)"
            ),
            "read_errors": .init("flightlog_agent_read_errors_total", .counter, "Errors reading watched files"),
            "rotations": .init("flightlog_agent_file_rotations_total", .counter, "Watched files rotated"),
            "truncations": .init("flightlog_agent_file_truncations_total", .counter, "Watched files truncated"),
            "files_vanished": .init(
                "flightlog_agent_files_vanished_total",
                .counter,
                "Watched files deleted before being read to the end"
            ),
            "journal_entries_read": .init(
                "flightlog_agent_journal_entries_read_total",
                .counter,
                "systemd journal entries read"
            ),
            "journal_entries_missed": .init(
                "flightlog_agent_journal_entries_missed_total",
                .counter,
                "Journal entries gone (rotated, vacuumed) before they were read, where the count is known"
            ),
            "journal_gaps": .init(
                "flightlog_agent_journal_gaps_total",
                .counter,
                "Gaps in the journal shipped as journal_gap events"
            ),
            "journal_no_files": .init(
                "flightlog_agent_journal_no_files_total",
                .counter,
                "Times the journal had no files to read"
            ),
            "syslog_received": .init("flightlog_agent_syslog_received_total", .counter, "Syslog messages received"),
            "syslog_dropped": .init(
                "flightlog_agent_syslog_dropped_total",
                .counter,
                "Syslog datagrams dropped at a full queue"
            ),
            "syslog_truncated": .init(
                "flightlog_agent_syslog_truncated_total",
                .counter,
                "Syslog messages cut at the size limit"
            ),
            "syslog_frame_errors": .init(
                "flightlog_agent_syslog_frame_errors_total",
                .counter,
                "Syslog TCP connections closed on a bad frame"
            ),
            "syslog_receive_errors": .init(
                "flightlog_agent_syslog_receive_errors_total",
                .counter,
                "Errors receiving syslog"
            ),
            "syslog_connections_refused": .init(
                "flightlog_agent_syslog_connections_refused_total",
                .counter,
                "Syslog TCP connections refused at the connection limit"
            ),
        ]
    )

    /// The whole exposition: `counters` with the spool's current size.
    static func render(counters: [String: UInt64], spoolBatches: Int, spoolBytes: Int, spoolMaxBytes: Int) -> String {
        var values = counters
        values["spool_batches"] = UInt64(max(0, spoolBatches))
        values["spool_bytes"] = UInt64(max(0, spoolBytes))
        values["spool_max_bytes"] = UInt64(max(0, spoolMaxBytes))
        let registry = PrometheusCollectorRegistry()
        Self.catalog.register(values, in: registry)
        return registry.emitToString()
    }
}

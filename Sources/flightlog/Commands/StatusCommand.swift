import ArgumentParser
import FlightlogAggregator
import FlightlogEvidence
import FlightlogPostgres
import FlightlogStore
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running aggregator's counters: connections, handshakes, batches by outcome, events, bytes.",
        discussion: """
            Reads the status file `flightlog serve` rewrites every 2 s (default: DB.status.json), and says when its \
            counters cannot be trusted to be current: serve's process is gone although the file says it runs (killed, \
            crashed, the machine restarted), or the file has not been rewritten for a while (a full disk, a stuck \
            server: serve's log says which).

            Exit status: 0 the counters are current (or serve stopped cleanly), 1 serve is gone or its counters are \
            stale (the warning is on standard error), 2 no readable status file.

            With --store postgres://…, the nodes that share that store instead, as the store knows them (each node's \
            own counters stay in its status file): per node, the batches and events it stored, when it last stored one \
            and last completed a handshake, and how many agents ship to it now; then the store's totals and its \
            latest checkpoint.

            Examples:
              flightlog status --db /var/lib/flightlog/flightlog.db
              flightlog status --store postgres://flightlog@db1/flightlog
              flightlog status --status-file /run/flightlog/status.json --format jsonl
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions

    @Option(
        help: ArgumentHelp(
            "The status file to read. Example: --status-file /run/flightlog/status.json",
            valueName: "path"
        )
    )
    var statusFile: String?

    @Option(help: "Output format: table or jsonl. Example: --format jsonl")
    var format: ListFormat = .table

    func run() async throws {
        if let postgres = try await self.store.openPostgres() {
            defer { postgres.close() }
            try await self.nodes(postgres)
            return
        }
        let path = self.statusFile ?? self.database.db + ".status.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            Output.error("no status file at \(path): is `flightlog serve --db \(self.database.db)` running?")
            throw ExitCode(2)
        }
        guard let status = try? JSONDecoder().decode(StatusDocument.self, from: data) else {
            Output.error("\(path) is not a Flightlog status file")
            throw ExitCode(2)
        }
        let age = (Double(nowNanos()) - Double(status.writtenNanos)) / 1e9
        switch self.format {
        case .jsonl:
            Output.line(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\n", with: ""))
        case .table:
            Output.line(
                "state \(status.state) · pid \(status.pid) · listening \(status.listen) · updated \(String(format: "%.1f", age)) s ago"
            )
            let rows =
                [["COUNTER", "VALUE"]] + status.counters.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] }
            Output.line(Output.table(rows))
        }
        if let warning = Self.warning(status, age: age, alive: Self.isRunning(pid: status.pid)) {
            Output.error(warning)
            throw ExitCode(1)
        }
    }

    /// The nodes sharing a PostgreSQL store, and the store's totals.
    private func nodes(_ store: PostgresStore) async throws {
        let nodes: [NodeSummary]
        let counts: (batches: Int, events: Int)
        let treeSize: UInt64
        let latest: StoredCheckpoint?
        do {
            nodes = try await store.nodeSummaries()
            counts = try await store.counts()
            treeSize = try await store.treeSize()
            latest = try await store.checkpoints().last
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let now = nowNanos()
        func ago(_ nanos: Int64?) -> String {
            nanos.map { DurationText.describe(max(0, now - $0)) + " ago" } ?? "never"
        }
        let checkpoint =
            latest.map {
                "checkpoint of \($0.signed.checkpoint.size) leaves signed \(ago($0.signedNanos))"
            } ?? "no checkpoint"
        switch self.format {
        case .table:
            var rows = [["NODE", "BATCHES", "EVENTS", "LAST BATCH", "LAST HANDSHAKE", "AGENTS NOW"]]
            for node in nodes {
                rows.append([
                    node.node, String(node.batches), String(node.events), ago(node.lastBatchNanos),
                    ago(node.lastHandshakeNanos), String(node.agents),
                ])
            }
            Output.line(Output.table(rows))
            Output.line(
                "store: \(counts.batches) batches, \(counts.events) events, log of \(treeSize) leaves, \(checkpoint)"
            )
        case .jsonl:
            for node in nodes {
                var line: [UInt8] = Array("{\"type\":\"node\",\"node\":".utf8)
                FieldsJSON.appendString(node.node, to: &line)
                line +=
                    (",\"batches\":\(node.batches),\"events\":\(node.events),\"last_batch_ns\":"
                    + "\(node.lastBatchNanos.map(String.init) ?? "null"),\"last_handshake_ns\":"
                    + "\(node.lastHandshakeNanos.map(String.init) ?? "null"),\"agents\":\(node.agents)}").utf8
                Output.line(String(decoding: line, as: UTF8.self))
            }
            Output.line(
                "{\"type\":\"store\",\"batches\":\(counts.batches),\"events\":\(counts.events),\"tree_size\":\(treeSize),"
                    + "\"checkpoint_size\":\(latest.map { String($0.signed.checkpoint.size) } ?? "null")}"
            )
        }
    }

    /// Why the counters of a file written by `serve` are not current, or nil when they are.
    static func warning(_ status: StatusDocument, age: Double, alive: Bool) -> String? {
        guard status.state == "running" else { return nil }
        let seconds = String(format: "%.0f", age)
        guard alive else {
            return """
                serve (pid \(status.pid)) is not running, but its status file says it is: it stopped without shutting \
                down (killed, crashed, or the machine restarted). These counters are from \(seconds) s ago.
                """
        }
        guard age <= status.staleAfterSeconds else {
            return """
                these counters are \(seconds) s old, and serve (pid \(status.pid)) rewrites them every \
                \(status.intervalSeconds ?? 2) s: it is running but not writing its status file (a full disk? stuck?). \
                Its log says why.
                """
        }
        return nil
    }

    /// Whether a process with this id exists (on this machine).
    static func isRunning(pid: Int) -> Bool {
        guard pid > 0, let id = pid_t(exactly: pid) else { return false }
        return kill(id, 0) == 0 || errno == EPERM
    }
}

import ArgumentParser
import FlightlogAggregator
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

            Examples:
              flightlog status --db /var/lib/flightlog/flightlog.db
              flightlog status --status-file /run/flightlog/status.json --format jsonl
            """
    )

    @OptionGroup var database: DatabaseOptions

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

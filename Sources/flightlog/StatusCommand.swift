import ArgumentParser
import FlightlogAggregator
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running aggregator's counters: connections, handshakes, batches by outcome, events, bytes.",
        discussion: """
            Reads the status file `flightlog serve` rewrites every 2 s (default: DB.status.json).

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
        switch self.format {
        case .jsonl:
            Output.line(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\n", with: ""))
        case .table:
            let age = Double(nowNanos() - status.writtenNanos) / 1e9
            Output.line(
                "state \(status.state) · pid \(status.pid) · listening \(status.listen) · updated \(String(format: "%.1f", age)) s ago"
            )
            let rows =
                [["COUNTER", "VALUE"]] + status.counters.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] }
            Output.line(Output.table(rows))
        }
    }
}

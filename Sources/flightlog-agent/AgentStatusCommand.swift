import ArgumentParser
import FlightlogAgent
import Foundation

struct AgentStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show files and offsets, spool depth, last ack, connection state and counters.",
        discussion: """
            Reads the state directory; works whether or not the agent runs (the counters are those it last wrote). \
            The unsent batches are counted in the spool folder itself, so they are exact once the agent has stopped \
            even if it was killed: `--json` has them as "unsent": {"batches": N, "bytes": B} (scripts/uninstall \
            refuses while N > 0).

            Example:
              flightlog-agent status --state-dir /var/lib/flightlog-agent
            """
    )

    @Option(
        help: ArgumentHelp(
            "The agent's state directory. Example: --state-dir /var/lib/flightlog-agent",
            valueName: "dir"
        )
    )
    var stateDir: String

    @Flag(help: "Print the status as one JSON object.")
    var json = false

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: self.stateDir + "/chain.json"),
            let chain = try? JSONDecoder().decode(ChainState.self, from: data)
        else {
            Output.error("no agent state in \(self.stateDir) (is it the --state-dir of `flightlog-agent run`?)")
            throw ExitCode(2)
        }
        let status = AgentStatus.read(stateDirectory: self.stateDir)
        guard let unsent = Journal.unsentBatches(directory: self.stateDir, nextSequence: chain.nextSequence) else {
            Output.error("cannot list \(self.stateDir)/spool")
            throw ExitCode(2)
        }
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            struct Unsent: Encodable {
                var batches: Int
                var bytes: Int
            }
            struct Both: Encodable {
                var chain: ChainState
                var status: AgentStatus?
                var unsent: Unsent
            }
            let both = Both(chain: chain, status: status, unsent: Unsent(batches: unsent.batches, bytes: unsent.bytes))
            if let out = try? encoder.encode(both) {
                Output.line(String(decoding: out, as: UTF8.self))
            }
            return
        }
        Output.line("epoch \(chain.epoch) · next sequence \(chain.nextSequence) · head \(chain.headHash.prefix(16))…")
        Output.line("unsent: \(unsent.batches) batches, \(unsent.bytes) bytes in \(self.stateDir)/spool")
        Output.line("files:")
        for file in chain.tailer.files {
            Output.line("  \(file.path)  offset \(file.offset)  inode \(file.identity.inode)")
        }
        guard let status else {
            Output.line("no status.json: the agent has not run yet")
            return
        }
        let age = Date().timeIntervalSince1970 - Double(status.writtenNanos) / 1e9
        Output.line(
            "agent \(status.state) (pid \(status.pid), updated \(String(format: "%.1f", age)) s ago) → \(status.aggregator)"
        )
        Output.line("connection: \(status.notes["connection"] ?? "unknown")")
        if let error = status.notes["last_error"] { Output.line("last error: \(error)") }
        Output.line("spool: \(status.spoolBatches) batches, \(status.spoolBytes) bytes of \(status.spoolMaxBytes)")
        if let ack = status.counters["last_ack_ns"] {
            let ago = (Double(status.writtenNanos) - Double(ack)) / 1e9
            Output.line(
                "last ack: sequence \(status.counters["last_acked_sequence"] ?? 0), \(String(format: "%.1f", ago)) s before update"
            )
        }
        for (name, value) in status.counters.sorted(by: { $0.key < $1.key }) where !name.hasSuffix("_ns") {
            Output.line("  \(name) \(value)")
        }
    }
}

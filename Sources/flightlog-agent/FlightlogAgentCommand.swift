import ArgumentParser
import CMalloc

/// `flightlog-agent`: tails logs on a workstation and ships them as signed, chained batches.
@main
struct FlightlogAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flightlog-agent",
        abstract: "Tail log files and ship them to a Flightlog aggregator as signed, hash-chained batches.",
        discussion: """
            A workstation, worked through (the aggregator's operator gives you its address, the pin \
            `flightlog tls-init` printed, and a one-time token from `flightlog enroll-token`):
              flightlog-agent enroll --aggregator logs.example:7514 --pin sha256:… \\
                  --key /etc/flightlog/agent.key --token-file token.txt
              flightlog-agent run --config /etc/flightlog/agent.yaml
              flightlog-agent status --state-dir /var/lib/flightlog-agent

            Trying it on loopback, without TLS:
              flightlog-agent keygen --key agent.key
              flightlog-agent run --aggregator 127.0.0.1:7514 --key agent.key --state-dir state \\
                  --watch '/var/log/*.log' --insecure-plaintext
            """,
        subcommands: [
            KeygenCommand.self, PubkeyCommand.self, EnrollCommand.self, RunCommand.self, RotateKeyCommand.self,
            AgentStatusCommand.self,
        ]
    )

    static func main() async {
        // One malloc arena, set before any thread allocates: the agent is small and mostly idle, and glibc's
        // per-thread arenas would otherwise keep a few MiB of freed memory each (docs/benchmarks/agent.md, footprint).
        _ = flightlog_set_malloc_arenas(1)
        do {
            var command = try Self.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Self.exit(withError: error)
        }
    }
}

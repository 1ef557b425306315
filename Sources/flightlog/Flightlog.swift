import ArgumentParser
import Foundation

/// `flightlog`: the aggregator and the investigator's command line.
@main
struct Flightlog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flightlog",
        abstract: "Flightlog aggregator and investigator tools: tamper-evident log evidence from agents.",
        discussion: """
            Aggregator:    serve, status \
            Enrolment:     enroll, revoke, agents \
            Investigation: query, timeline, stats, hunt, export (see docs/INVESTIGATING.md) \
            Integrity:     verify (a database, or a bundle with --bundle; verify-bundle is its old spelling),
                           checkpoint
            Trying it out: simulate (made-up call-center logs, with a vishing incident on request)

            Examples:
              flightlog enroll --db /var/lib/flightlog/flightlog.db --name cc-ws-602 --public-key 'q0n…='
              flightlog serve --db /var/lib/flightlog/flightlog.db --listen 0.0.0.0:7514 --insecure-plaintext
              flightlog agents --db /var/lib/flightlog/flightlog.db
              flightlog query --db /var/lib/flightlog/flightlog.db --user mchen --since 2026-11-24T09:00Z
              flightlog verify --db /var/lib/flightlog/flightlog.db
              flightlog export --db /var/lib/flightlog/flightlog.db --user mchen --since 2026-11-24 --out case-4711/
              flightlog verify --bundle case-4711/ --aggregator-key flightlog-aggregator.key.pub
            """,
        subcommands: [
            ServeCommand.self,
            TLSInitCommand.self,
            StatusCommand.self,
            EnrollCommand.self,
            EnrollTokenCommand.self,
            RevokeTokenCommand.self,
            RevokeCommand.self,
            AgentsCommand.self,
            QueryCommand.self,
            TimelineCommand.self,
            StatsCommand.self,
            HuntCommand.self,
            ExportCommand.self,
            VerifyBundleCommand.self,
            VerifyCommand.self,
            CheckpointCommand.self,
            SimulateCommand.self,
        ]
    )

    /// Investigator commands exit like grep (0 matched, 1 nothing matched, 2 any error) and the checks exit 0 clean,
    /// 1 findings, 2 could not run: for all of them a usage error is a 2, not ArgumentParser's 64.
    static let usageErrorExitsTwo: Set<String> = [
        "query", "timeline", "stats", "hunt", "export", "verify", "verify-bundle",
    ]

    static func main() async {
        do {
            var command = try Self.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let usage = Self.exitCode(for: error) == .validationFailure
            if usage, let subcommand = CommandLine.arguments.dropFirst().first,
                Self.usageErrorExitsTwo.contains(subcommand)
            {
                FileHandle.standardError.write(Data((Self.fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            Self.exit(withError: error)
        }
    }
}

import ArgumentParser
import Foundation

/// `flightlog`: the aggregator and the investigator's command line.
@main
struct Flightlog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flightlog",
        abstract: "Flightlog aggregator and investigator tools: tamper-evident log evidence from agents.",
        discussion: """
            New here? `bash scripts/demo.sh` runs the whole pipeline on made-up call-center logs, with an incident \
            to investigate, and prints each command it runs.

            Aggregator:    serve, status, tls-init
            Enrolment:     enroll-token, enroll, revoke-token, revoke, agents
            Investigation: query, timeline, stats, hunt, export (docs/INVESTIGATING.md)
            Integrity:     verify (a database, or a bundle with --bundle), checkpoint
            Maintenance:   compact (a store written before 2026-12-07), copy-store (SQLite to PostgreSQL),
                           store-roles (PostgreSQL roles for serve and investigators)
            Trying it out: simulate

            A first site, worked through (DB=/var/lib/flightlog/flightlog.db):
              flightlog tls-init --out /etc/flightlog/tls --name logs.example --ip 10.0.0.5
              flightlog serve --db $DB --tls-cert /etc/flightlog/tls/server.pem \\
                  --tls-key /etc/flightlog/tls/server.key
              flightlog enroll-token --db $DB --name cc-ws-602
                (on cc-ws-602: flightlog-agent enroll --token-file - --pin sha256:…)
              flightlog agents --db $DB
              flightlog query --db $DB --user mchen --since 2026-11-24T09:00Z
              flightlog verify --db $DB
              flightlog export --db $DB --user mchen --since 2026-11-24 --out case-4711/
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
            CompactCommand.self,
            CopyStoreCommand.self,
            StoreRolesCommand.self,
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

import ArgumentParser

/// `flightlog`: the aggregator and the investigator's command line.
@main
struct Flightlog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flightlog",
        abstract: "Flightlog aggregator and investigator tools: tamper-evident log evidence from agents.",
        discussion: """
            Aggregator:    serve, status
            Enrolment:     enroll, revoke, agents
            Integrity:     verify, checkpoint

            Examples:
              flightlog enroll --db /var/lib/flightlog/flightlog.db --name cc-ws-602 --public-key 'q0n…='
              flightlog serve --db /var/lib/flightlog/flightlog.db --listen 0.0.0.0:7514 --insecure-plaintext
              flightlog agents --db /var/lib/flightlog/flightlog.db
              flightlog verify --db /var/lib/flightlog/flightlog.db
            """,
        subcommands: [
            ServeCommand.self,
            StatusCommand.self,
            EnrollCommand.self,
            RevokeCommand.self,
            AgentsCommand.self,
            VerifyCommand.self,
            CheckpointCommand.self,
        ]
    )
}

import ArgumentParser
import FlightlogPostgres
import FlightlogStore

struct StoreRolesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-roles",
        abstract: "Give PostgreSQL roles for serve and for investigators the least they need (docs/SCALE-OUT.md).",
        discussion: """
            Run as the role that owns the store's tables (the one that created them), after creating the roles \\
            with PostgreSQL's own tools (CREATE ROLE … LOGIN PASSWORD …). The serve role may read the store, \\
            append batches, events, leaves, checkpoints, findings and handshakes, move chain heads, the log's size \\
            and agents' last-seen columns, and create month partitions through a function that runs as the owner. \\
            The read role may read everything and append to the audit trail. Neither may update or delete a batch, \\
            an event, a leaf, a checkpoint or an audit row. Enrolment, revocation and copy-store stay with the \\
            owner. Run it again after an upgrade that adds tables.

            Example:
              flightlog store-roles --store postgres://flightlog_owner@db1/flightlog \\
                  --serve-role flightlog_serve --read-role flightlog_investigator
            """
    )

    @OptionGroup var store: StoreOptions

    @Option(help: "The role `flightlog serve` connects as. Example: --serve-role flightlog_serve")
    var serveRole: String?

    @Option(help: "The role investigators' commands connect as. Example: --read-role flightlog_investigator")
    var readRole: String?

    func validate() throws {
        guard self.store.store != nil else { throw ValidationError("--store is required: the store to grant on") }
        guard self.serveRole != nil || self.readRole != nil else {
            throw ValidationError("give --serve-role, --read-role or both")
        }
    }

    func run() async throws {
        guard let postgres = try await self.store.openPostgres(create: true) else { throw ExitCode(2) }
        defer { postgres.close() }
        do {
            try await postgres.grantRoles(serve: self.serveRole, read: self.readRole)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        for (what, role) in [("serve", self.serveRole), ("investigators", self.readRole)] {
            if let role { Output.line("granted \(role) what \(what) need on \(postgres.location)") }
        }
    }
}

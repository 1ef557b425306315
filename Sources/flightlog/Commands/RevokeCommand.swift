import ArgumentParser
import FlightlogPostgres
import FlightlogStore

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an agent's key: its connections are refused from now on; what it stored stays as evidence.",
        discussion: """
            Takes effect on a running server at once, open sessions included: the agent's next batch is refused \
            with revokedAgent, recorded as a finding (see `flightlog agents`), and the connection closed.

            Example:
              flightlog revoke --db flightlog.db --name cc-ws-602
              flightlog revoke --store postgres://flightlog@db1/flightlog --name cc-ws-602
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "The enrolled agent's name. Example: --name cc-ws-602")
    var name: String

    func run() async throws {
        let postgres = try await self.store.openPostgres()
        defer { postgres?.close() }
        do {
            if let postgres {
                try await postgres.revoke(name: self.name, atNanos: nowNanos())
            } else {
                let store = try Storage.open(path: self.database.db, onDamagedIndex: .leaveOut)
                try await store.revoke(name: self.name, atNanos: nowNanos())
            }
            Output.line("revoked \(self.name)")
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

import ArgumentParser
import FlightlogPostgres
import FlightlogStore

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enrol an agent by name and public key; only enrolled agents may ship batches.",
        discussion: """
            The public key is the base64 line printed by `flightlog-agent keygen` (or `flightlog-agent pubkey`): \
            the standard base64 of the 32 raw bytes, 44 characters ending in '=' (PROTOCOL.md §1.1). A key of \
            small order (the all-zero key, the identity point, …) or not canonically encoded is refused: anyone \
            could sign for it. The database is created on first use.

            Example:
              flightlog enroll --db flightlog.db --name cc-ws-602 --public-key 'mZ3x…Q='
              flightlog enroll --store postgres://flightlog@db1/flightlog --name cc-ws-602 --public-key 'mZ3x…Q='
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "The agent's name, unique, as investigators will see it. Example: --name cc-ws-602")
    var name: String

    @Option(
        help: ArgumentHelp(
            "The agent's Ed25519 public key, base64. Example: --public-key 'mZ3x…Q='",
            valueName: "base64"
        )
    )
    var publicKey: String

    func run() async throws {
        if let postgres = try await self.store.openPostgres(create: true) {
            defer { postgres.close() }
            do {
                let agent = try await postgres.enroll(
                    name: self.name,
                    publicKeyBase64: self.publicKey,
                    atNanos: nowNanos()
                )
                Output.line("enrolled \(agent.name) \(agent.fingerprint)")
                return
            } catch {
                Output.error("\(error)")
                throw ExitCode(2)
            }
        }
        do {
            let store = try Storage.open(path: self.database.db, onDamagedIndex: .leaveOut)
            let agent = try await store.enroll(name: self.name, publicKeyBase64: self.publicKey, atNanos: nowNanos())
            Output.line("enrolled \(agent.name) \(agent.fingerprint)")
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

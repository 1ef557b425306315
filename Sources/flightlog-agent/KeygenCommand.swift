import ArgumentParser
import Crypto
import FlightlogAgent

struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create the agent's Ed25519 key (mode 0600) and print its public key for `flightlog enroll`.",
        discussion: """
            Refuses to overwrite an existing file.

            Example:
              flightlog-agent keygen --key /etc/flightlog/agent.key
            """
    )

    @Option(
        help: ArgumentHelp("Where to write the private key. Example: --key /etc/flightlog/agent.key", valueName: "path")
    )
    var key: String

    func run() async throws {
        do {
            let publicKey = try KeyFile.generate(at: self.key)
            Output.line(KeyFile.publicKeyText(publicKey))
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

struct PubkeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pubkey",
        abstract: "Print the public key of an existing agent key, as `flightlog enroll --public-key` takes it.",
        discussion: """
            Example:
              flightlog-agent pubkey --key /etc/flightlog/agent.key
            """
    )

    @Option(help: ArgumentHelp("The private key file. Example: --key /etc/flightlog/agent.key", valueName: "path"))
    var key: String

    func run() async throws {
        do {
            Output.line(KeyFile.publicKeyText(try KeyFile.load(self.key).publicKey))
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

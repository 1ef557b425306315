import ArgumentParser
import Crypto
import FlightlogAgent
import FlightlogTLS
import Foundation

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enrol this agent's key at the aggregator with a one-time token; no public key is copied by hand.",
        discussion: """
            The operator issues the token on the aggregator (`flightlog enroll-token --name NAME`); this reads it \
            from a file or standard input (never from the command line, where `ps` shows it), creates the key if \
            --key does not exist yet, proves to the aggregator that it holds it, and is enrolled under the name \
            the token was issued for. The token is sent only over TLS to an aggregator this agent has \
            authenticated (--pin or --ca), or in plaintext when both sides run with --insecure-plaintext.

            Exit status: 0 enrolled, 1 refused (the message says why: unknown, expired, used or revoked token, a \
            name enrolled with another key, too many attempts), 2 could not try (configuration, network, TLS).

            Examples:
              flightlog-agent enroll --aggregator logs.example:7514 --key /etc/flightlog/agent.key \\
                  --pin sha256:3b1f… --token-file /root/token.txt
              echo "$TOKEN" | flightlog-agent enroll --config /etc/flightlog/agent.yaml --token-file -
            """
    )

    @Option(
        help: ArgumentHelp(
            "A YAML file as `run` takes; flags override it. Example: --config agent.yaml",
            valueName: "path"
        )
    )
    var config: String?

    @Option(help: ArgumentHelp("Aggregator address. Example: --aggregator logs.example:7514", valueName: "host:port"))
    var aggregator: String?

    @Option(
        help: ArgumentHelp("The private key file, created when missing. Example: --key agent.key", valueName: "path")
    )
    var key: String?

    @Option(
        help: ArgumentHelp(
            "Where the token is: a file, or - for standard input. Example: --token-file /root/token.txt",
            valueName: "path"
        )
    )
    var tokenFile: String

    @Option(
        help: ArgumentHelp(
            "Trust the aggregator by this pin; repeatable. Example: --pin sha256:3b1f…",
            valueName: "sha256:hex"
        )
    )
    var pin: [String] = []

    @Option(help: ArgumentHelp("Trust the aggregator by this CA. Example: --ca ca.pem", valueName: "path"))
    var ca: String?

    @Flag(help: "Send the token without TLS (loopback or an isolated network only).")
    var insecurePlaintext = false

    @Option(help: "The host name this agent reports (default: the machine's). Example: --hostname cc-ws-602")
    var hostname: String?

    func run() async throws {
        var configuration: AgentConfiguration
        let token: String
        let tls: ShipperTLS?
        do {
            configuration = try self.config.map(AgentConfiguration.load(path:)) ?? AgentConfiguration()
            if let aggregator = self.aggregator { try configuration.setAggregator(aggregator) }
            if let key = self.key { configuration.keyPath = key }
            if self.insecurePlaintext { configuration.insecurePlaintext = true }
            if let ca = self.ca { configuration.caPath = ca }
            if !self.pin.isEmpty { configuration.pins = self.pin }
            if let hostname = self.hostname { configuration.hostname = hostname }
            token = try Self.readToken(self.tokenFile)
            if configuration.insecurePlaintext {
                guard configuration.caPath == nil, configuration.pins.isEmpty else {
                    throw AgentError.configuration("--insecure-plaintext and --pin/--ca contradict each other")
                }
                tls = nil
            } else {
                do {
                    tls = try ShipperTLS(trust: AggregatorTrust(caPath: configuration.caPath, pins: configuration.pins))
                } catch {
                    throw AgentError.configuration(
                        "\(error); the token is sent only to an aggregator this agent has authenticated"
                    )
                }
            }
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let key: Curve25519.Signing.PrivateKey
        do {
            key =
                FileManager.default.fileExists(atPath: configuration.keyPath)
                ? try KeyFile.load(configuration.keyPath) : try KeyFile.generate(privateKeyAt: configuration.keyPath)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        do {
            let answer = try await Enrolment.enrol(
                token: token,
                key: key,
                epoch: UInt64(max(Int64(Date().timeIntervalSince1970 * 1e9), 1)),
                configuration: configuration,
                tls: tls
            )
            if case .enrolled(let name) = answer {
                Output.line("enrolled as \(name), key \(KeyFile.publicKeyText(key.publicKey))")
            }
        } catch AgentError.refused(let code, let message) {
            Output.error("the aggregator refused the enrolment: \(code): \(message)")
            throw ExitCode(1)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }

    /// The token's first line, from a file or standard input.
    static func readToken(_ path: String) throws -> String {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw AgentError.configuration("cannot read the token file \(path)")
            }
            data = contents
        }
        let token =
            String(decoding: data.prefix(4096), as: UTF8.self).split(whereSeparator: \.isNewline).first
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty, token.utf8.count <= 64 else {
            throw AgentError.configuration("\(path) holds no token (one line, as `flightlog enroll-token` printed it)")
        }
        return token
    }
}

struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Replace this agent's key by a new one, as a hand-over signed by both keys.",
        discussion: """
            Stop the agent first, with every batch shipped (`flightlog-agent status` shows an empty spool). The \
            command makes a new key, signs a record naming the last batch of the current chain with the old and \
            the new key, and sends it to the aggregator, which stores it as evidence and makes the new key the \
            agent's; the agent then continues in a new epoch signed by the new key, and `verify` checks both \
            chains with the record that links them. The old key is kept as KEY.retired-<epoch>. A rotation cut \
            short (network, crash) is finished by running the command again.

            Example:
              systemctl stop flightlog-agent && flightlog-agent rotate-key --config /etc/flightlog/agent.yaml \\
                  && systemctl start flightlog-agent
            """
    )

    @Option(
        help: ArgumentHelp("The agent's YAML file; flags override it. Example: --config agent.yaml", valueName: "path")
    )
    var config: String?

    @Option(help: ArgumentHelp("Aggregator address. Example: --aggregator logs.example:7514", valueName: "host:port"))
    var aggregator: String?

    @Option(help: ArgumentHelp("The private key file. Example: --key agent.key", valueName: "path"))
    var key: String?

    @Option(
        help: ArgumentHelp(
            "The agent's state directory. Example: --state-dir /var/lib/flightlog-agent",
            valueName: "path"
        )
    )
    var stateDir: String?

    @Option(
        help: ArgumentHelp(
            "Trust the aggregator by this pin; repeatable. Example: --pin sha256:3b1f…",
            valueName: "sha256:hex"
        )
    )
    var pin: [String] = []

    @Option(help: ArgumentHelp("Trust the aggregator by this CA. Example: --ca ca.pem", valueName: "path"))
    var ca: String?

    @Flag(help: "Talk to the aggregator without TLS (loopback or an isolated network only).")
    var insecurePlaintext = false

    func run() async throws {
        var configuration: AgentConfiguration
        let tls: ShipperTLS?
        do {
            configuration = try self.config.map(AgentConfiguration.load(path:)) ?? AgentConfiguration()
            if let aggregator = self.aggregator { try configuration.setAggregator(aggregator) }
            if let key = self.key { configuration.keyPath = key }
            if let dir = self.stateDir { configuration.stateDirectory = dir }
            if self.insecurePlaintext { configuration.insecurePlaintext = true }
            if let ca = self.ca { configuration.caPath = ca }
            if !self.pin.isEmpty { configuration.pins = self.pin }
            tls =
                configuration.insecurePlaintext
                ? nil : try ShipperTLS(trust: AggregatorTrust(caPath: configuration.caPath, pins: configuration.pins))
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        do {
            let outcome = try await KeyRotation.run(configuration: configuration, tls: tls)
            Output.line(
                "rotated: epoch \(outcome.oldEpoch) handed over to epoch \(outcome.newEpoch), new key "
                    + KeyFile.publicKeyText(outcome.newPublicKey) + "; the old key is kept as \(outcome.retiredKeyPath)"
            )
        } catch AgentError.refused(let code, let message) {
            Output.error("the aggregator refused the rotation: \(code): \(message)")
            throw ExitCode(1)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

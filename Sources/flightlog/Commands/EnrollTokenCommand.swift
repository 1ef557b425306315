import ArgumentParser
import FlightlogEvidence
import FlightlogPostgres
import FlightlogStore
import FlightlogWire
import Foundation

struct EnrollTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-token",
        abstract: "Issue a one-time token that enrols one host's key (`flightlog-agent enroll --token-file`).",
        discussion: """
            The token enrols the first key that presents it, under --name, until it expires (default 24h). It \
            carries 160 random bits, is printed once (the last line of the output), and is stored only as its \
            SHA-256; using, expiring, revoking it and every refused attempt are recorded (`flightlog agents \
            --tokens`, the audit trail). Hand it to the host's installer the way you hand over a password.

            --names FILE issues one token per line of FILE (a host name each) and prints CSV \
            (name,token,expires) for a fleet tool. --reenroll lets the token replace the key of a host already \
            enrolled under that name (a reinstalled host whose key is lost); the store shows the re-enrolment.

            Examples:
              flightlog enroll-token --db flightlog.db --name cc-ws-602
              flightlog enroll-token --db flightlog.db --names hosts.txt --expires 72h > tokens.csv
              flightlog enroll-token --db flightlog.db --name cc-ws-602 --reenroll
              flightlog enroll-token --store postgres://flightlog@db1/flightlog --names hosts.txt > tokens.csv
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "The agent name the token enrols. Example: --name cc-ws-602")
    var name: String?

    @Option(
        help: ArgumentHelp(
            "A file of names, one a line: one token each, as CSV. Example: --names hosts.txt",
            valueName: "path"
        )
    )
    var names: String?

    @Option(
        help: ArgumentHelp("How long the token is valid (default 24h). Example: --expires 72h", valueName: "duration")
    )
    var expires: String = "24h"

    @Flag(help: "The token may replace the key of an agent already enrolled under the name (a reinstalled host).")
    var reenroll = false

    func validate() throws {
        guard (self.name == nil) != (self.names == nil) else {
            throw ValidationError("give --name NAME or --names FILE (one of them)")
        }
        guard let duration = try? TimeExpression.parseDuration(self.expires), duration > 0 else {
            throw ValidationError("--expires must be a duration such as 24h, 3d or 90m")
        }
    }

    func run() async throws {
        let names: [String]
        if let name = self.name {
            names = [name]
        } else if let path = self.names {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                Output.error("cannot read \(path)")
                throw ExitCode(2)
            }
            names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        } else {
            names = []
        }
        let now = nowNanos()
        let expires = now.addingSaturating((try? TimeExpression.parseDuration(self.expires)) ?? 0)
        let postgres = try await self.store.openPostgres(create: true)
        defer { postgres?.close() }
        do {
            let sqlite = postgres == nil ? try Storage.open(path: self.database.db, onDamagedIndex: .leaveOut) : nil
            if self.names != nil { Output.line("name,token,expires") }
            for name in names {
                let who = AuditTrail.currentUser()
                let issued =
                    if let postgres {
                        try await postgres.issueToken(
                            name: name,
                            expiresNanos: expires,
                            reenroll: self.reenroll,
                            who: who,
                            atNanos: now
                        )
                    } else if let sqlite {
                        try await sqlite.issueToken(
                            name: name,
                            expiresNanos: expires,
                            reenroll: self.reenroll,
                            who: who,
                            atNanos: now
                        )
                    } else {
                        throw StoreError.database("no store")
                    }
                if self.names != nil {
                    Output.line("\(name),\(issued.token),\(Timestamp.rfc3339(expires))")
                } else {
                    Output.line(
                        "token \(issued.id) enrols \(name) until \(Timestamp.rfc3339(expires)); on the host: "
                            + "flightlog-agent enroll --token-file FILE (the token alone, on the line below)"
                    )
                    Output.line(issued.token)
                }
            }
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

struct RevokeTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke-token",
        abstract: "Revoke the unused enrolment tokens of a name, or one token by its id.",
        discussion: """
            Examples:
              flightlog revoke-token --db flightlog.db --name cc-ws-602
              flightlog revoke-token --db flightlog.db --id 17
              flightlog revoke-token --store postgres://flightlog@db1/flightlog --name cc-ws-602
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "Revoke every unused token of this name. Example: --name cc-ws-602")
    var name: String?

    @Option(help: "Revoke the token with this id (`flightlog agents --tokens`). Example: --id 17")
    var id: Int64?

    func validate() throws {
        guard self.name != nil || self.id != nil else { throw ValidationError("give --name NAME or --id ID") }
    }

    func run() async throws {
        let postgres = try await self.store.openPostgres()
        defer { postgres?.close() }
        do {
            let count =
                if let postgres {
                    try await postgres.revokeTokens(
                        name: self.name,
                        id: self.id,
                        who: AuditTrail.currentUser(),
                        atNanos: nowNanos()
                    )
                } else {
                    try await Storage.open(path: self.database.db, onDamagedIndex: .leaveOut).revokeTokens(
                        name: self.name,
                        id: self.id,
                        who: AuditTrail.currentUser(),
                        atNanos: nowNanos()
                    )
                }
            Output.line("revoked \(count) token\(count == 1 ? "" : "s")")
            if count == 0 { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

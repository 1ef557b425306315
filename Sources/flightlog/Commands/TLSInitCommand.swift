import ArgumentParser
import FlightlogTLS
import Foundation
import X509

struct TLSInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls-init",
        abstract: "Make a private CA and a server certificate for serve, and print the pin agents trust it by.",
        discussion: """
            For deployments without a PKI. Writes into DIR (created if missing):
              ca.pem      the CA certificate (P-256, 10 years, signs servers only)
              ca.key      its key (0600): keep it off the aggregator between renewals
              server.pem  the server certificate (397 days, every --name/--ip), ca.pem
              server.key  its key (0600)
            and prints the CA's pin. Agents trust the aggregator with `--pin PIN` or `--ca ca.pem`; \
            the pin is the CA's key, so it survives renewals. Existing files are never overwritten.

            --renew issues a new server certificate and key with the CA already in DIR (ca.pem, ca.key) \
            and replaces server.pem and server.key atomically; a running serve picks them up within \
            seconds (or on SIGHUP), without dropping sessions, and agents keep their pin.

            Examples:
              flightlog tls-init --out /etc/flightlog/tls --name logs.example --ip 10.0.0.5
              flightlog tls-init --out /etc/flightlog/tls --name logs.example --renew
            """
    )

    @Option(help: ArgumentHelp("Directory to write into. Example: --out /etc/flightlog/tls", valueName: "dir"))
    var out: String

    @Option(
        help: ArgumentHelp(
            "A DNS name agents reach the aggregator by; repeatable. Example: --name logs.callcenter.example",
            valueName: "host"
        )
    )
    var name: [String] = []

    @Option(
        help: ArgumentHelp("An IP address agents reach it by; repeatable. Example: --ip 10.0.0.5", valueName: "addr")
    )
    var ip: [String] = []

    @Flag(help: "Issue a new server certificate with the CA already in --out, replacing server.pem and server.key.")
    var renew = false

    func validate() throws {
        guard !self.name.isEmpty || !self.ip.isEmpty else {
            throw ValidationError("give at least one --name or --ip: the certificate must name the aggregator")
        }
        for address in self.ip where (try? SocketAddressText.check(address)) == nil {
            throw ValidationError("--ip \(address) is not an IPv4 or IPv6 address")
        }
        for name in self.name where name.isEmpty || name.contains(" ") || name.contains(":") {
            throw ValidationError("--name '\(name)' is not a host name")
        }
    }

    func run() throws {
        do {
            try FileManager.default.createDirectory(atPath: self.out, withIntermediateDirectories: true)
            let path = { (file: String) in self.out + "/" + file }
            if self.renew {
                let ca = try AggregatorTrust.readCertificates(path("ca.pem"))
                guard let caCertificate = ca.first else {
                    throw TLSError.badFile(path: path("ca.pem"), reason: "holds no certificate")
                }
                let caKey = try Certificate.PrivateKey(
                    pemEncoded: try String(contentsOfFile: path("ca.key"), encoding: .utf8)
                )
                let now = Date()
                let (server, key) = try PrivateCA.issue(
                    names: self.name,
                    addresses: self.ip,
                    by: caCertificate,
                    key: caKey,
                    notBefore: now.addingTimeInterval(-60),
                    notAfter: now.addingTimeInterval(PrivateCA.serverLifetime)
                )
                // The key first: a serve that reads between the two renames sees a key that does not match the old
                // certificate and keeps serving the old pair until both are in place.
                try Self.replace(path("server.key"), with: PrivateCA.pem(key), mode: 0o600)
                try Self.replace(
                    path("server.pem"),
                    with: PrivateCA.pem(server) + PrivateCA.pem(caCertificate),
                    mode: 0o644
                )
                Output.line(
                    "renewed \(path("server.pem")) until \(ISO8601DateFormatter().string(from: server.notValidAfter))"
                )
                Output.line("agents keep their pin: \(try CertificatePin(caCertificate))")
                return
            }
            let ca = try PrivateCA.make(names: self.name, addresses: self.ip)
            for file in ["ca.pem", "ca.key", "server.pem", "server.key"]
            where FileManager.default.fileExists(atPath: path(file)) {
                throw TLSError.badFile(path: path(file), reason: "exists already: use --renew, or move it away")
            }
            try PrivateCA.write(try PrivateCA.pem(ca.caKey), to: path("ca.key"), mode: 0o600)
            try PrivateCA.write(try PrivateCA.pem(ca.caCertificate), to: path("ca.pem"), mode: 0o644)
            try PrivateCA.write(try PrivateCA.pem(ca.serverKey), to: path("server.key"), mode: 0o600)
            try PrivateCA.write(
                try PrivateCA.pem(ca.serverCertificate) + PrivateCA.pem(ca.caCertificate),
                to: path("server.pem"),
                mode: 0o644
            )
            let pin = try CertificatePin(ca.caCertificate)
            let aggregator = (self.name.first ?? self.ip[0])
            Output.line("wrote \(path("ca.pem")), \(path("ca.key")), \(path("server.pem")), \(path("server.key"))")
            Output.line("")
            Output.line("on the aggregator:")
            Output.line("  flightlog serve --tls-cert \(path("server.pem")) --tls-key \(path("server.key")) …")
            Output.line("on each agent (either the pin, or the CA file copied over):")
            Output.line("  flightlog-agent run --aggregator \(aggregator):7514 --pin \(pin) …")
            Output.line("  flightlog-agent run --aggregator \(aggregator):7514 --ca ca.pem …")
            Output.line("move \(path("ca.key")) off this machine once it is not needed for renewals.")
            Output.line("")
            Output.line("pin: \(pin)")
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }

    /// Writes `text` next to `path` and renames it over `path`.
    static func replace(_ path: String, with text: String, mode: mode_t) throws {
        let temporary = path + ".new-\(getpid())"
        unlink(temporary)
        try PrivateCA.write(text, to: temporary, mode: mode)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TLSError.badFile(path: path, reason: "cannot be replaced: \(String(cString: strerror(errno)))")
        }
    }
}

/// IP literal checks for flags.
enum SocketAddressText {
    static func check(_ text: String) throws {
        var v4 = in_addr()
        var v6 = in6_addr()
        guard inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1 else {
            throw ValidationError("not an IP address")
        }
    }
}

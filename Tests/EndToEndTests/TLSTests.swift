import FlightlogStore
import FlightlogTLS
import FlightlogTestSupport
import Foundation
import Testing
import X509

/// TLS between the real `flightlog serve` and the real `flightlog-agent`, with certificates made at test time by
/// `flightlog tls-init` (and by its library for dates it will not make): each way of trusting the aggregator
/// ships, each way of failing is named on both sides and counted by `serve`.
@Suite("TLS between the real programs", .serialized)
struct TLSTests {
    @Test func aCAPinALeafPinAndTheCAFileEachShipOverTLS() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        // serve prints its listening line after the socket is bound: wait for it rather than read it at once.
        try await site.expectLog("serve.log", "(TLS 1.3)")
        let leafPin = try CertificatePin(try AggregatorTrust.readCertificates(site.scratch.file("tls/server.pem"))[0])
        for (index, trust) in [
            ["--pin", site.pin], ["--pin", leafPin.description], ["--ca", site.scratch.file("tls/ca.pem")],
        ].enumerated() {
            let agent = try site.startAgent(
                trust,
                host: index == 2 ? "localhost" : "127.0.0.1",
                log: "agent\(index).log"
            )
            // Each agent's own session: the log already holds the earlier agents' lines.
            try await Harness.eventuallyAsync(seconds: 60, "serve.log says 'Agent connected' \(index + 1) times") {
                site.log("serve.log").components(separatedBy: "Agent connected").count > index + 1
            }
            try LogWriter(path: site.scratch.file("app.log")).append(["shipped over tls \(index)"])
            try await site.expectStored("shipped over tls \(index)")
            Harness.killHard(agent)
        }
    }

    /// What `tls-init` makes, read by a tool that is not ours (OpenSSL 3): the chain verifies, the SANs and key
    /// usage are the ones asked for, the keys are private, and the printed pin is SHA-256 of the CA's DER
    /// SubjectPublicKeyInfo as openssl computes it.
    @Test func tlsInitFilesAndPinAgreeWithOpenSSL() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let dir = scratch.file("tls")
        let made = try await Harness.runAsync(
            "flightlog",
            ["tls-init", "--out", dir, "--name", "logs.example", "--ip", "10.0.0.5"]
        )
        #expect(made.code == 0, "\(made.err)")
        let pin = made.out.split(separator: "\n").last.map { String($0.dropFirst("pin: ".count)) } ?? ""
        func sh(_ command: String) async throws -> String {
            let result = try await Subprocess.runAsync("/bin/sh", ["-c", command])
            #expect(result.status == 0, "\(command): \(result.stderr)")
            return result.stdout
        }
        let digest = try await sh(
            "openssl x509 -in '\(dir)/ca.pem' -pubkey -noout | openssl pkey -pubin -outform der | sha256sum"
        )
        #expect(pin == "sha256:" + (digest.split(separator: " ").first.map(String.init) ?? "-"), "\(pin) \(digest)")
        await #expect(try sh("openssl verify -CAfile '\(dir)/ca.pem' '\(dir)/server.pem'").contains(": OK"))
        let text = try await sh("openssl x509 -in '\(dir)/server.pem' -noout -text")
        #expect(text.contains("DNS:logs.example") && text.contains("IP Address:10.0.0.5"), "\(text)")
        #expect(text.contains("TLS Web Server Authentication") && text.contains("CA:FALSE"), "\(text)")
        await #expect(try sh("openssl x509 -in '\(dir)/ca.pem' -noout -text").contains("CA:TRUE"))
        for key in ["ca.key", "server.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: dir + "/" + key)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key) has mode \(String(mode ?? 0, radix: 8))")
        }
    }

    @Test func aPinOrCAThatDoesNotMatchIsNamedOnBothSidesAndCounted() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        try site.startAgent(["--pin", "sha256:" + String(repeating: "0", count: 64)], log: "pin.log")
        try await site.expectLog(
            "pin.log",
            "pin mismatch: no certificate the aggregator presented has a pinned public key"
        )
        try await site.expectLog("pin.log", site.pin)
        try await site.expectLog("serve.log", "the agent refused this aggregator's certificate")
        try await site.expectCounter("tls_failures.certificate_refused")

        let other = site.scratch.file("other")
        #expect(try await Harness.runAsync("flightlog", ["tls-init", "--out", other, "--name", "localhost"]).code == 0)
        try site.startAgent(["--ca", other + "/ca.pem"], log: "ca.log")
        try await site.expectLog(
            "ca.log",
            "unknown CA: the aggregator's certificate (CN=localhost) is not signed by the CA of"
        )
    }

    @Test func aCertificateForAnotherNameIsANameMismatch() async throws {
        let site = try await TLSSite(tlsName: "other.example", tlsIP: "")
        defer { site.stop() }
        try await site.waitListening()
        try site.startAgent(["--ca", site.scratch.file("tls/ca.pem")], log: "name.log")
        try await site.expectLog(
            "name.log",
            "name mismatch: the aggregator's certificate is for other.example, not 127.0.0.1"
        )
        // The pin needs no name: the key is the identity.
        try site.startAgent(["--pin", site.pin], log: "pinned.log")
        try await site.expectStored("first line")
    }

    @Test(arguments: ["expired", "not yet valid"])
    func anExpiredOrNotYetValidCertificateIsNamed(_ kind: String) async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        let ca = try AggregatorTrust.readCertificates(site.scratch.file("tls/ca.pem"))[0]
        let caKey = try Certificate.PrivateKey(
            pemEncoded: try String(contentsOfFile: site.scratch.file("tls/ca.key"), encoding: .utf8)
        )
        let now = Date()
        let (start, end) =
            kind == "expired"
            ? (now.addingTimeInterval(-2 * 86_400), now.addingTimeInterval(-86_400))
            : (now.addingTimeInterval(86_400), now.addingTimeInterval(2 * 86_400))
        let (certificate, key) = try PrivateCA.issue(
            names: ["localhost"],
            addresses: ["127.0.0.1"],
            by: ca,
            key: caKey,
            notBefore: start,
            notAfter: end
        )
        let dated = site.scratch.file("dated")
        try FileManager.default.createDirectory(atPath: dated, withIntermediateDirectories: true)
        try PrivateCA.write(try PrivateCA.pem(certificate) + PrivateCA.pem(ca), to: dated + "/server.pem", mode: 0o644)
        try PrivateCA.write(try PrivateCA.pem(key), to: dated + "/server.key", mode: 0o600)
        if let server = site.server { Harness.killHard(server) }
        try site.startServe(certificate: dated + "/server.pem", key: dated + "/server.key")
        try await site.waitListening()
        try site.startAgent(["--pin", site.pin], log: "dated.log")
        try await site.expectLog(
            "dated.log",
            kind == "expired"
                ? "the aggregator's certificate expired on" : "the aggregator's certificate is not valid yet"
        )
    }

    @Test func plaintextAndTLSMeetingEachOtherSayWhichIsWhich() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        try site.startAgent(["--insecure-plaintext"], log: "plain.log")
        try await site.expectLog("plain.log", "ERROR tlsRequired")
        try await site.expectLog("plain.log", "this aggregator requires TLS")
        try await site.expectLog("serve.log", "An agent connected in plaintext; this aggregator requires TLS")
        try await site.expectCounter("tls_failures.plaintext_agent")

        if let server = site.server { Harness.killHard(server) }
        try site.startServe(plaintext: true)
        try await site.waitListening()
        try site.startAgent(["--pin", site.pin], log: "tls.log")
        try await site.expectLog("tls.log", "the aggregator answered in plaintext: it runs with --insecure-plaintext")
        try await site.expectLog("serve.log", "An agent started TLS; this aggregator runs with --insecure-plaintext")
        try await site.expectCounter("tls_failures.tls_agent")
    }

    /// TLS 1.2 on either side is a protocol-version failure, named on both sides and counted. The other peer is the
    /// real `openssl` tool (OpenSSL 3, Debian's `openssl` package), limited to TLS 1.2.
    @Test func aPeerWithoutTLS13IsAProtocolVersionFailureOnBothSides() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        let client = try await Subprocess.runAsync(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(site.port)", "-tls1_2", "-servername", "localhost"]
        )
        #expect(client.status != 0, "openssl's TLS 1.2 client was served: \(client.stdout)")
        try await site.expectLog("serve.log", "the agent does not offer TLS 1.3")
        try await site.expectCounter("tls_failures.protocol_version")

        // An aggregator's address answered by a TLS 1.2-only server (an old proxy, a misconfigured balancer).
        let port = try Harness.freePort()
        let server = try Subprocess(
            "/usr/bin/openssl",
            [
                "s_server", "-accept", "127.0.0.1:\(port)", "-tls1_2", "-cert", site.scratch.file("tls/server.pem"),
                "-key", site.scratch.file("tls/server.key"), "-quiet",
            ],
            stdout: site.scratch.file("openssl.log"),
            stderr: site.scratch.file("openssl.log")
        )
        defer { Harness.killHard(server) }
        try await Harness.eventuallyAsync(seconds: 30, "openssl s_server listens") { Harness.isListening(port) }
        let agent = try Harness.start(
            "flightlog-agent",
            [
                "run", "--aggregator", "127.0.0.1:\(port)", "--key", site.scratch.file("agent.key"), "--state-dir",
                site.scratch.file("state-old"), "--watch", site.scratch.file("app.log"), "--pin", site.pin,
            ],
            log: site.scratch.file("old.log")
        )
        site.agents.append(agent)
        try await site.expectLog("old.log", "TLS: the aggregator does not speak TLS 1.3")
        // flightlog-agent status shows the last failure and how many there were.
        try await Harness.eventuallyAsync(seconds: 30, "the agent's status names the failure") {
            let status = try await Harness.runAsync(
                "flightlog-agent",
                ["status", "--state-dir", site.scratch.file("state-old")]
            )
            return status.out.contains("last error: TLS: the aggregator does not speak TLS 1.3")
                && status.out.contains("tls_failures ")
        }
    }

    /// A key the aggregator does not know, or one it revoked, is refused inside TLS: the agent logs the aggregator's
    /// ERROR, serve logs the refusal, and both are counted.
    @Test func anUnknownOrRevokedAgentKeyIsRefusedOverTLSOnBothSides() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        #expect(
            try await Harness.runAsync("flightlog-agent", ["keygen", "--key", site.scratch.file("stranger.key")]).code
                == 0
        )
        try site.startAgent(["--pin", site.pin], log: "stranger.log", key: "stranger.key")
        try await site.expectLog("stranger.log", "ERROR unknownAgent")
        try await site.expectLog("serve.log", "Handshake refused: this key is not enrolled")
        try await site.expectCounter("handshakes_rejected.unknownAgent")

        try site.startAgent(["--pin", site.pin], log: "enrolled.log")
        try await site.expectStored("first line")
        let revoked = try await Harness.runAsync("flightlog", ["revoke", "--db", site.db, "--name", "ws-tls"])
        #expect(revoked.code == 0, "\(revoked.err)")
        try site.startAgent(["--pin", site.pin], log: "revoked.log", state: "state-revoked")
        try await site.expectLog("revoked.log", "ERROR revokedAgent")
        try await site.expectLog("serve.log", "Handshake refused: this key was revoked")
        try await site.expectCounter("handshakes_rejected.revokedAgent")
        try await Harness.eventuallyAsync(seconds: 30, "the agent's status names the refusal") {
            let status = try await Harness.runAsync(
                "flightlog-agent",
                ["status", "--state-dir", site.scratch.file("state-revoked")]
            )
            return status.out.contains("last error: ERROR revokedAgent") && status.out.contains("errors_received ")
        }
    }

    /// A renewed certificate (`tls-init --renew`) is served to new connections within seconds, while an agent keeps
    /// shipping on its open session: every line it wrote is stored once.
    @Test func aRenewedCertificateIsServedWithoutDroppingSessionsOrLines() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        try site.startAgent(["--pin", site.pin], log: "steady.log")
        try await site.expectStored("first line")
        let writer = LogWriter(path: site.scratch.file("app.log"))
        let before = try AggregatorTrust.readCertificates(site.scratch.file("tls/server.pem"))[0]
        for round in 0..<20 { try writer.append(["steady before renewal \(round)"]) }
        let renewed = try await Harness.runAsync(
            "flightlog",
            ["tls-init", "--out", site.scratch.file("tls"), "--name", "localhost", "--ip", "127.0.0.1", "--renew"]
        )
        #expect(renewed.code == 0, "\(renewed.err)")
        #expect(renewed.out.contains("agents keep their pin: \(site.pin)"))
        try await site.expectLog("serve.log", "Serving a new TLS certificate to new connections")
        for round in 0..<20 { try writer.append(["steady after renewal \(round)"]) }
        let after = try AggregatorTrust.readCertificates(site.scratch.file("tls/server.pem"))[0]
        #expect(before.serialNumber != after.serialNumber)
        // A new connection gets the new certificate, and the pin of the CA still holds. (Another agent, with its own
        // key: a second session of the first one's key would replace its session, PROTOCOL.md §7.2 rule 8.)
        try "".write(toFile: site.scratch.file("other.log"), atomically: false, encoding: .utf8)
        try await Harness.enrollNewAgent(keyPath: site.scratch.file("other.key"), db: site.db, name: "ws-tls-other")
        try site.startAgent(
            ["--pin", try CertificatePin(after).description],
            log: "new.log",
            watch: "other.log",
            key: "other.key"
        )
        try await site.expectLog("serve.log", "Agent connected")
        try await Harness.eventuallyAsync(seconds: 60, "every line stored once") {
            let result = try await Harness.runAsync(
                "flightlog",
                ["query", "--db", site.db, "--match", "steady", "--count"]
            )
            return result.out.trimmed == "40"
        }
        #expect(!site.log("steady.log").contains("Connection to the aggregator ended"), "the open session was kept")
    }
}

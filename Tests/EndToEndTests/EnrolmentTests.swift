import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogStore

/// One-step enrolment with tokens and key rotation between the real programs, over TLS (PROTOCOL.md §4.10–4.13).
@Suite("Enrolment with tokens and key rotation, end to end", .serialized)
struct EnrolmentTests {
    /// Issues a token for `name` with `flightlog enroll-token` and writes it to a file; returns the file and token.
    static func token(_ site: TLSSite, name: String, extra: [String] = []) async throws -> (path: String, token: String)
    {
        let issued = try await Harness.runAsync("flightlog", ["enroll-token", "--db", site.db, "--name", name] + extra)
        guard issued.code == 0, let token = issued.out.split(separator: "\n").last.map(String.init) else {
            throw HarnessError("enroll-token failed: \(issued.err)")
        }
        let path = site.scratch.file("token-\(UUID().uuidString)")
        try (token + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, token)
    }

    /// Runs `flightlog-agent enroll` with the site's pin.
    static func enroll(
        _ site: TLSSite,
        tokenFile: String,
        key: String
    ) async throws -> (code: Int32, out: String, err: String) {
        try await Harness.runAsync(
            "flightlog-agent",
            [
                "enroll", "--aggregator", "127.0.0.1:\(site.port)", "--key", site.scratch.file(key), "--pin", site.pin,
                "--token-file", tokenFile, "--hostname", "installer-host",
            ]
        )
    }

    @Test func aTokenEnrolsAKeyOverTLSAndTheAgentShipsWithIt() async throws {
        let site = try await TLSSite(enroll: false)
        defer { site.stop() }
        try await site.waitListening()
        let (file, token) = try await Self.token(site, name: "cc-ws-602")
        #expect(token.hasPrefix("flt1_") && token.count == 37)
        let enrolled = try await Self.enroll(site, tokenFile: file, key: "fresh.key")
        #expect(enrolled.code == 0, "\(enrolled.err)")
        #expect(enrolled.out.contains("enrolled as cc-ws-602"))
        #expect(FileManager.default.fileExists(atPath: site.scratch.file("fresh.key")), "the key was made on the host")
        try site.startAgent(["--pin", site.pin], key: "fresh.key")
        try await site.expectStored("first line")
        let tokens = try await Harness.runAsync("flightlog", ["agents", "--db", site.db, "--tokens"])
        #expect(tokens.out.contains("cc-ws-602") && tokens.out.contains("used"), "\(tokens.out)")
        // The audit trail holds the issue and the use; no log, status file or table holds the token.
        let audit = try SQLiteStore(readOnlyPath: site.db).auditEntries()
        #expect(audit.map(\.command).contains("enroll-token"))
        #expect(audit.contains { $0.command == "enroll" && $0.who == "serve" })
        for text in [
            site.log("serve.log"), site.log("agent.log"),
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: site.db)), as: UTF8.self),
        ] {
            #expect(!text.contains(token), "the token leaked")
        }
        try await site.expectCounter("enrolments")
    }

    @Test func aTokenUsedTwiceExpiredRevokedOrUnknownIsRefusedWithItsCause() async throws {
        let site = try await TLSSite(enroll: false)
        defer { site.stop() }
        try await site.waitListening()
        let (used, _) = try await Self.token(site, name: "ws-used")
        await #expect(try Self.enroll(site, tokenFile: used, key: "a.key").code == 0)
        let again = try await Self.enroll(site, tokenFile: used, key: "b.key")
        #expect(again.code == 1)
        #expect(again.err.contains("badToken: the token was used already"), "\(again.err)")

        let (expiring, _) = try await Self.token(site, name: "ws-late", extra: ["--expires", "1s"])
        try await Task.sleep(for: .milliseconds(1500))
        let late = try await Self.enroll(site, tokenFile: expiring, key: "c.key")
        #expect(late.code == 1)
        #expect(late.err.contains("badToken: the token expired at"), "\(late.err)")

        let (revoked, _) = try await Self.token(site, name: "ws-revoked")
        #expect(
            try await Harness.runAsync("flightlog", ["revoke-token", "--db", site.db, "--name", "ws-revoked"]).code == 0
        )
        let refused = try await Self.enroll(site, tokenFile: revoked, key: "d.key")
        #expect(refused.err.contains("badToken: the token was revoked at"), "\(refused.err)")

        let bogus = site.scratch.file("bogus")
        try "flt1_notatokenanyoneissued00000000\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        let unknown = try await Self.enroll(site, tokenFile: bogus, key: "e.key")
        #expect(unknown.err.contains("badToken: unknown token"), "\(unknown.err)")
        for counter in ["used", "expired", "revoked", "unknown"] {
            try await site.expectCounter("enrolments_refused.\(counter)")
        }
        try await site.expectLog("serve.log", "Enrolment refused")
    }

    /// Issue 24's target: no private key or token ever appears in a log line, a status file or command, an error
    /// message or a process's arguments; here with the real programs after an enrolment, a shipment and the errors
    /// of each program handed the other's secret.
    @Test func noPrivateKeyOrTokenAppearsInLogsStatusErrorsOrArguments() async throws {
        let site = try await TLSSite(enroll: false)
        defer { site.stop() }
        try await site.waitListening()
        let (file, token) = try await Self.token(site, name: "cc-ws-777")
        let enrolled = try await Self.enroll(site, tokenFile: file, key: "secret.key")
        #expect(enrolled.code == 0, "\(enrolled.err)")
        let agent = try site.startAgent(["--pin", site.pin], key: "secret.key")
        try await site.expectStored("first line")
        try await site.expectCounter("enrolments")
        let agentKey = try String(contentsOfFile: site.scratch.file("secret.key"), encoding: .utf8).trimmed
        // The PEM body's lines: a leak of any part of the key shows as one of them.
        let tlsKeyLines = try String(contentsOfFile: site.scratch.file("tls/server.key"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") && $0.count >= 16 }
        let secrets = [token, agentKey] + tlsKeyLines
        #expect(agentKey.count >= 40 && !tlsKeyLines.isEmpty)

        // Each program handed the other's secret as its own key says what is wrong without echoing it.
        let badTLSKey = try await Harness.runAsync(
            "flightlog",
            [
                "serve", "--db", site.scratch.file("other.db"), "--listen", "127.0.0.1:\(try Harness.freePort())",
                "--tls-cert", site.scratch.file("tls/server.pem"), "--tls-key", site.scratch.file("secret.key"),
            ]
        )
        #expect(badTLSKey.code != 0 && badTLSKey.err.contains("secret.key"), "\(badTLSKey.err)")
        let badAgentKey = try await Harness.runAsync(
            "flightlog-agent",
            [
                "run", "--aggregator", "127.0.0.1:\(site.port)", "--key", site.scratch.file("tls/server.key"),
                "--state-dir", site.scratch.file("state-bad"), "--watch", site.scratch.file("app.log"), "--pin",
                site.pin,
            ]
        )
        #expect(badAgentKey.code != 0 && badAgentKey.err.contains("server.key"), "\(badAgentKey.err)")
        let tokenAsKey = try await Harness.runAsync("flightlog-agent", ["pubkey", "--key", file])
        #expect(tokenAsKey.code != 0, "\(tokenAsKey.out)")

        let serveStatus = try await Harness.runAsync("flightlog", ["status", "--db", site.db, "--format", "jsonl"])
        let agentStatus = try await Harness.runAsync(
            "flightlog-agent",
            ["status", "--state-dir", site.scratch.file("state-agent.log"), "--json"]
        )
        #expect(agentStatus.out.contains("ws-tls") || agentStatus.out.contains("127.0.0.1"), "\(agentStatus.out)")
        func arguments(_ pid: Int32) -> String {
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        }
        let texts: [(String, String)] = [
            ("serve.log", site.log("serve.log")), ("agent.log", site.log("agent.log")),
            ("serve's status file", site.log("flightlog.db.status.json")),
            ("the agent's status file", site.log("state-agent.log/status.json")),
            ("enroll's output", enrolled.out + enrolled.err),
            ("serve's error", badTLSKey.out + badTLSKey.err), ("the agent's error", badAgentKey.out + badAgentKey.err),
            ("pubkey's error", tokenAsKey.out + tokenAsKey.err),
            ("flightlog status", serveStatus.out + serveStatus.err),
            ("flightlog-agent status", agentStatus.out + agentStatus.err),
            ("serve's arguments", arguments(site.server?.processIdentifier ?? 0)),
            ("the agent's arguments", arguments(agent.processIdentifier)),
        ]
        #expect(!texts[0].1.isEmpty && !texts[2].1.isEmpty && !texts[3].1.isEmpty && !texts[10].1.isEmpty)
        for (name, text) in texts {
            for secret in secrets {
                #expect(!text.contains(secret), "\(name) holds a secret")
            }
        }
    }

    @Test func tooManyFailedEnrolmentsFromOneAddressAreRateLimited() async throws {
        let site = try await TLSSite(enroll: false)
        defer { site.stop() }
        try await site.waitListening()
        let bogus = site.scratch.file("bogus")
        try "flt1_guess\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        var answers: [String] = []
        for _ in 0..<11 { await answers.append(try Self.enroll(site, tokenFile: bogus, key: "guess.key").err) }
        #expect(answers.prefix(10).allSatisfy { $0.contains("unknown token") }, "\(answers)")
        #expect(answers.last?.contains("rateLimited: too many failed enrolments") == true, "\(answers.last ?? "")")
        try await site.expectCounter("enrolment_rate_limited")
    }

    @Test func aNameEnrolledWithAnotherKeyIsReplacedOnlyByAReenrolmentToken() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        let plain = try await Harness.runAsync("flightlog", ["enroll-token", "--db", site.db, "--name", "ws-tls"])
        #expect(plain.code == 2)
        #expect(plain.err.contains("ws-tls"), "\(plain.err)")
        // A reinstalled host, its key lost: an explicit re-enrolment.
        let (file, _) = try await Self.token(site, name: "ws-tls", extra: ["--reenroll"])
        let again = try await Self.enroll(site, tokenFile: file, key: "reinstalled.key")
        #expect(again.code == 0, "\(again.err)")
        let findings = try await SQLiteStore(readOnlyPath: site.db).findings()
        #expect(findings.contains { $0.kind == .reenrolled }, "\(findings)")
        // The old key is refused, and says it was replaced.
        try site.startAgent(["--pin", site.pin], log: "old.log")
        try await site.expectLog("old.log", "revokedAgent")
        try await site.expectLog("old.log", "was replaced: use the new key")
    }

    /// The operator's rotation: ship, stop, rotate, ship again; verify is clean, the bundle verifies offline, the
    /// old key is refused, and nothing was shipped twice.
    @Test func aRotatedKeyContinuesTheChainAndVerifyIsClean() async throws {
        let site = try await TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        let agent = try site.startAgent(["--pin", site.pin], state: "state")
        try await site.expectStored("first line")
        agent.terminate()
        _ = agent.waitUntilExit()
        let rotated = try await Harness.runAsync(
            "flightlog-agent",
            [
                "rotate-key", "--aggregator", "127.0.0.1:\(site.port)", "--key", site.scratch.file("agent.key"),
                "--state-dir", site.scratch.file("state"), "--pin", site.pin,
            ]
        )
        #expect(rotated.code == 0, "\(rotated.err)")
        #expect(rotated.out.contains("rotated: epoch"), "\(rotated.out)")
        try LogWriter(path: site.scratch.file("app.log")).append(["after the rotation"])
        try site.startAgent(["--pin", site.pin], log: "rotated.log", state: "state")
        try await site.expectStored("after the rotation")
        let count = try await Harness.runAsync(
            "flightlog",
            ["query", "--db", site.db, "--match", "\"first line\"", "--count"]
        )
        #expect(count.out.trimmed == "1", "no line read twice")
        let verify = try await Harness.runAsync("flightlog", ["verify", "--db", site.db])
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")
        let agents = try await Harness.runAsync("flightlog", ["agents", "--db", site.db, "--format", "jsonl"])
        #expect(agents.out.contains("\"findings\":0"), "a rotation is not a finding: \(agents.out)")
        #expect(try await Harness.runAsync("flightlog", ["checkpoint", "--db", site.db]).code == 0)
        let bundle = site.scratch.file("bundle")
        let export = try await Harness.runAsync(
            "flightlog",
            ["export", "--db", site.db, "--out", bundle, "--since", "1d"]
        )
        #expect(export.code == 0, "\(export.err)")
        let offline = try await Harness.runAsync("flightlog", ["verify", "--bundle", bundle])
        #expect(offline.code == 0, "\(offline.out)")
        try site.startAgent(
            ["--pin", site.pin],
            log: "retired.log",
            key: "agent.key.retired-" + Self.oldEpoch(rotated.out)
        )
        try await site.expectLog("retired.log", "was replaced: use the new key")
    }

    static func oldEpoch(_ output: String) -> String {
        output.split(separator: " ").drop { $0 != "epoch" }.dropFirst().first.map(String.init) ?? ""
    }
}

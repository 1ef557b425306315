import FlightlogStore
import FlightlogTestSupport
import Foundation
import Testing

/// One-step enrolment with tokens and key rotation between the real programs, over TLS (PROTOCOL.md §4.10–4.13).
@Suite("Enrolment with tokens and key rotation, end to end", .serialized)
struct EnrolmentTests {
    /// Issues a token for `name` with `flightlog enroll-token` and writes it to a file; returns the file and token.
    static func token(_ site: TLSSite, name: String, extra: [String] = []) throws -> (path: String, token: String) {
        let issued = try Harness.run("flightlog", ["enroll-token", "--db", site.db, "--name", name] + extra)
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
    ) throws -> (code: Int32, out: String, err: String) {
        try Harness.run(
            "flightlog-agent",
            [
                "enroll", "--aggregator", "127.0.0.1:\(site.port)", "--key", site.scratch.file(key), "--pin", site.pin,
                "--token-file", tokenFile, "--hostname", "installer-host",
            ]
        )
    }

    @Test func aTokenEnrolsAKeyOverTLSAndTheAgentShipsWithIt() async throws {
        let site = try TLSSite(enroll: false)
        defer { site.stop() }
        try await site.waitListening()
        let (file, token) = try Self.token(site, name: "cc-ws-602")
        #expect(token.hasPrefix("flt1_") && token.count == 37)
        let enrolled = try Self.enroll(site, tokenFile: file, key: "fresh.key")
        #expect(enrolled.code == 0, "\(enrolled.err)")
        #expect(enrolled.out.contains("enrolled as cc-ws-602"))
        #expect(FileManager.default.fileExists(atPath: site.scratch.file("fresh.key")), "the key was made on the host")
        try site.startAgent(["--pin", site.pin], key: "fresh.key")
        try await site.expectStored("first line")
        let tokens = try Harness.run("flightlog", ["agents", "--db", site.db, "--tokens"])
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
        let site = try TLSSite(enroll: false)
        defer { site.stop() }
        try await site.waitListening()
        let (used, _) = try Self.token(site, name: "ws-used")
        #expect(try Self.enroll(site, tokenFile: used, key: "a.key").code == 0)
        let again = try Self.enroll(site, tokenFile: used, key: "b.key")
        #expect(again.code == 1)
        #expect(again.err.contains("badToken: the token was used already"), "\(again.err)")

        let (expiring, _) = try Self.token(site, name: "ws-late", extra: ["--expires", "1s"])
        try await Task.sleep(for: .milliseconds(1500))
        let late = try Self.enroll(site, tokenFile: expiring, key: "c.key")
        #expect(late.code == 1)
        #expect(late.err.contains("badToken: the token expired at"), "\(late.err)")

        let (revoked, _) = try Self.token(site, name: "ws-revoked")
        #expect(try Harness.run("flightlog", ["revoke-token", "--db", site.db, "--name", "ws-revoked"]).code == 0)
        let refused = try Self.enroll(site, tokenFile: revoked, key: "d.key")
        #expect(refused.err.contains("badToken: the token was revoked at"), "\(refused.err)")

        let bogus = site.scratch.file("bogus")
        try "flt1_notatokenanyoneissued00000000\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        let unknown = try Self.enroll(site, tokenFile: bogus, key: "e.key")
        #expect(unknown.err.contains("badToken: unknown token"), "\(unknown.err)")
        for counter in ["used", "expired", "revoked", "unknown"] {
            try await site.expectCounter("enrolments_refused.\(counter)")
        }
        try await site.expectLog("serve.log", "Enrolment refused")
    }

    @Test func tooManyFailedEnrolmentsFromOneAddressAreRateLimited() async throws {
        let site = try TLSSite(enroll: false)
        defer { site.stop() }
        try await site.waitListening()
        let bogus = site.scratch.file("bogus")
        try "flt1_guess\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        var answers: [String] = []
        for _ in 0..<11 { answers.append(try Self.enroll(site, tokenFile: bogus, key: "guess.key").err) }
        #expect(answers.prefix(10).allSatisfy { $0.contains("unknown token") }, "\(answers)")
        #expect(answers.last?.contains("rateLimited: too many failed enrolments") == true, "\(answers.last ?? "")")
        try await site.expectCounter("enrolment_rate_limited")
    }

    @Test func aNameEnrolledWithAnotherKeyIsReplacedOnlyByAReenrolmentToken() async throws {
        let site = try TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        let plain = try Harness.run("flightlog", ["enroll-token", "--db", site.db, "--name", "ws-tls"])
        #expect(plain.code == 2)
        #expect(plain.err.contains("ws-tls"), "\(plain.err)")
        // A reinstalled host, its key lost: an explicit re-enrolment.
        let (file, _) = try Self.token(site, name: "ws-tls", extra: ["--reenroll"])
        let again = try Self.enroll(site, tokenFile: file, key: "reinstalled.key")
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
        let site = try TLSSite()
        defer { site.stop() }
        try await site.waitListening()
        let agent = try site.startAgent(["--pin", site.pin], state: "state")
        try await site.expectStored("first line")
        agent.terminate()
        _ = agent.waitUntilExit()
        let rotated = try Harness.run(
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
        let count = try Harness.run("flightlog", ["query", "--db", site.db, "--match", "\"first line\"", "--count"])
        #expect(count.out.trimmed == "1", "no line read twice")
        let verify = try Harness.run("flightlog", ["verify", "--db", site.db])
        #expect(verify.code == 0, "\(verify.out)\(verify.err)")
        let agents = try Harness.run("flightlog", ["agents", "--db", site.db, "--format", "jsonl"])
        #expect(agents.out.contains("\"findings\":0"), "a rotation is not a finding: \(agents.out)")
        #expect(try Harness.run("flightlog", ["checkpoint", "--db", site.db]).code == 0)
        let bundle = site.scratch.file("bundle")
        let export = try Harness.run("flightlog", ["export", "--db", site.db, "--out", bundle, "--since", "1d"])
        #expect(export.code == 0, "\(export.err)")
        let offline = try Harness.run("flightlog", ["verify", "--bundle", bundle])
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

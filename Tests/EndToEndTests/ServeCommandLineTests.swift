import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogStore

/// `flightlog serve` run as the operator runs it: with the flags mistyped or missing (each gets a message that names
/// what is wrong, exit code 64, and no database is created), and on a database whose full-text index is damaged.
@Suite("flightlog serve: what the operator sees")
struct ServeCommandLineTests {
    @Test func aMistypedPlaintextFlagIsNamed() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let result = try await Harness.runAsync("flightlog", ["serve", "--db", db, "--insecure-plaintex"])
        #expect(result.code == 64)
        // Not "pass --insecure-plaintext", which the operator believes they did.
        #expect(result.err.contains("Unknown option '--insecure-plaintex'"), "\(result.err)")
        #expect(result.err.contains("Did you mean '--insecure-plaintext'?"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func withoutThePlaintextFlagServeExplainsWhy() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let result = try await Harness.runAsync("flightlog", ["serve", "--db", db, "--listen", "127.0.0.1:0"])
        #expect(result.code == 64)
        #expect(result.err.contains("agents are served over TLS: give --tls-cert and --tls-key"), "\(result.err)")
        #expect(result.err.contains("`flightlog tls-init` makes them"), "\(result.err)")
        #expect(result.err.contains("--insecure-plaintext for loopback"), "\(result.err)")
        #expect(result.err.contains("flightlog serve --help"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    /// A damaged full-text index does not keep `serve` from storing evidence: it is moved aside (kept) and rebuilt.
    @Test func aDamagedFullTextIndexDoesNotStopServe() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let enroll = try await Harness.runAsync(
            "flightlog",
            [
                "enroll", "--db", db, "--name", "ws-1", "--public-key",
                Data(repeating: 7, count: 32).base64EncodedString(),
            ]
        )
        #expect(enroll.code == 0, "\(enroll.err)")
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: db + ".fts"))

        let query = try await Harness.runAsync("flightlog", ["query", "--db", db, "--match", "sshd"])
        #expect(query.code == 2)
        #expect(query.err.contains("the full-text index \(db).fts is damaged"), "\(query.err)")
        #expect(query.err.contains("The evidence database is not affected"), "\(query.err)")
        // What does not need the index still answers, with a warning.
        let agents = try await Harness.runAsync("flightlog", ["agents", "--db", db])
        #expect(agents.code == 0 && agents.out.contains("ws-1"), "\(agents.err)")
        let count = try await Harness.runAsync("flightlog", ["query", "--db", db, "--host", "ws-1", "--count"])
        #expect(count.code == 1, "no event, and no error: \(count.err)")
        #expect(count.err.contains("warning: the full-text index \(db).fts cannot be read"), "\(count.err)")
        // verify reports the index and checks the rest: a finding (exit 1), not a run that could not start (2).
        let verify = try await Harness.runAsync("flightlog", ["verify", "--db", db])
        #expect(verify.code == 1, "\(verify.out)\(verify.err)")
        #expect(verify.out.contains("storage_corrupt"), "\(verify.out)")
        #expect(verify.out.contains("cannot be read (file is not a database) and was not checked"), "\(verify.out)")

        let log = scratch.file("serve.log")
        let server = try await Harness.startServeAndWait(db: db, log: log)
        defer { Harness.killHard(server) }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("The full-text index was damaged: moved aside and rebuilt"), "\(text)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter {
            $0.hasPrefix("flightlog.db.fts.damaged-")
        }
        #expect(kept.count == 1)
        let after = try await Harness.runAsync("flightlog", ["query", "--db", db, "--match", "sshd"])
        #expect(after.code == 1, "no match, and no error: \(after.err)")
    }

    /// A store whose full-text index must be filled again (here `DB.fts` removed, as the README says to do with a
    /// damaged one; an upgrade that changes the index's layout is the same): `serve` says so in its log, with how
    /// many events, and fills it while it serves.
    @Test func aServeThatMustIndexStoredEventsSaysSo() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        do {
            let store = try SQLiteStore(path: db)
            let agent = TestAgent(name: "ws-rebuild")
            let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            for batch in try agent.chain(3) {
                let outcomes = try await store.ingest([
                    IngestItem(agentID: record.id, batch: batch, events: try batch.decodeEvents(), receivedNanos: 1)
                ])
                #expect(outcomes == [.stored])
            }
        }
        try FileManager.default.removeItem(atPath: db + ".fts")

        let log = scratch.file("serve.log")
        let server = try await Harness.startServeAndWait(db: db, log: log)
        defer { Harness.killHard(server) }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(
            text.contains(
                "The full-text index trails the stored events: indexing them now, its two files on two cores (about "
                    + "200,000 events/s when nothing else runs); evidence is stored and acknowledged meanwhile"
            ),
            "\(text)"
        )
        #expect(text.contains("events_to_index=15"), "\(text)")
        try await Harness.eventuallyAsync(seconds: 60, "the index fills") {
            try await Harness.runAsync("flightlog", ["query", "--db", db, "--match", "line", "--count"]).out
                .trimmingCharacters(in: .whitespacesAndNewlines) == "15"
        }
    }

    @Test func aBadValueIsNamed() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let result = try await Harness.runAsync(
            "flightlog",
            ["serve", "--db", db, "--insecure-plaintext", "--window", "0"]
        )
        #expect(result.code == 64)
        #expect(result.err.contains("--window must be between 1 and 1024"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }
}

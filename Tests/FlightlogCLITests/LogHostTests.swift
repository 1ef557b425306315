import FlightlogEvidence
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// `--log-host` is the host a line names itself (its syslog header), `--host` the workstation the agent ships for:
/// on a log relay, or a file forwarded from elsewhere, they differ.
@Suite("--log-host and --host")
struct LogHostTests {
    @Test func theLinesOwnHostIsQueriedApartFromTheAgentsHost() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let database = dir.file("flightlog.db")
        let agent = TestAgent(name: "relay-01")
        let chain = try agent.chain([
            [
                try agent.event(
                    "2026-11-24T10:09:12Z",
                    "Nov 24 10:09:12 cc-ws-702 sshd[4121]: Accepted password for mchen from 203.0.113.77 port 1 ssh2",
                    [("hostname", "cc-ws-702"), ("program", "sshd"), ("user", "mchen")]
                ),
                try agent.event(
                    "2026-11-24T10:10:00Z",
                    "Nov 24 10:10:00 relay-01 rsyslogd: action resumed",
                    [("hostname", "relay-01"), ("program", "rsyslogd")]
                ),
            ]
        ])
        let store = try Storage.open(path: database)
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        try await agent.ingest(chain, into: store)
        func count(_ arguments: String...) async throws -> String {
            let result = try await FlightlogCLI.run(["query", "--db", database, "--count"] + arguments)
            // Exit status 1 says nothing matched; anything else is an error.
            #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        await #expect(try count("--host", "relay-01") == "2", "both lines were shipped by the relay")
        await #expect(try count("--log-host", "cc-ws-702") == "1")
        await #expect(try count("--log-host", "relay-01") == "1")
        await #expect(try count("--host", "cc-ws-702") == "0")
        let help = try await FlightlogCLI.run(["query", "--help"])
        #expect(help.stdout.contains("--log-host <name>"))
    }
}

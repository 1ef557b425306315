import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// `flightlog agents` says which agent went silent and which was stopped, from the stored events: the demo's
/// story (an attacker stops the agent on the workstation they use, the rest of the fleet goes on logging).
@Suite("agents: silent and stopped")
struct AgentsStateTests {
    @Test func anAgentStoppedWhileTheFleetLoggedOnIsSilentAndStopped() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let database = dir.file("flightlog.db")
        let (victim, busy, quiet) = (
            TestAgent(name: "cc-ws-003"), TestAgent(name: "cc-ws-001"), TestAgent(name: "cc-ws-002")
        )
        func line(_ agent: TestAgent, _ time: String) throws -> Event {
            try agent.event(time, "\(time) \(agent.name) sshd[1]: Accepted password for a", [("program", "sshd")])
        }
        /// The agent's own stop event, as its collector writes it at SIGTERM, timed by the wall clock.
        func stop(_ agent: TestAgent, _ time: String) throws -> Event {
            var event = try agent.event(
                time,
                "flightlog-agent stopping pid=4242",
                [("program", "flightlog-agent"), ("action", "stop")],
                source: AgentActivity.lifecycleSource
            )
            event.flags = []
            return event
        }
        let chains: [(TestAgent, [[Event]])] = [
            (
                victim,
                [
                    [try line(victim, "2026-12-07T09:40:00Z"), try line(victim, "2026-12-07T09:52:00Z")],
                    [try stop(victim, "2026-12-07T11:00:00Z")],
                ]
            ),
            (busy, [[try line(busy, "2026-12-07T09:40:00Z")], [try line(busy, "2026-12-07T10:02:00Z")]]),
            // Its last line is 3 minutes behind the fleet's: not silent under the default 10 minutes.
            (quiet, [[try line(quiet, "2026-12-07T09:59:00Z")]]),
        ]
        let store = try Storage.open(path: database)
        for (agent, events) in chains {
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await agent.ingest(try agent.chain(events), into: store)
        }
        let table = try await FlightlogCLI.run(["agents", "--db", database])
        #expect(table.status == 0, "\(table.stderr)")
        let rows = table.stdout.split(separator: "\n").map(String.init)
        func row(_ name: String) -> String { rows.first { $0.hasPrefix(name) } ?? "" }
        #expect(row("cc-ws-003").contains("silent 10m, stopped"), "\(table.stdout)")
        #expect(
            row("cc-ws-003").contains("2026-12-07T09:52:00"),
            "LAST LINE leaves the stop event out: \(table.stdout)"
        )
        #expect(row("cc-ws-001").contains("active"), "\(table.stdout)")
        #expect(row("cc-ws-002").contains("active"), "\(table.stdout)")

        let strict = try await FlightlogCLI.run(["agents", "--db", database, "--silence", "2m", "--format", "jsonl"])
        #expect(strict.status == 0, "\(strict.stderr)")
        let states = try strict.stdout.split(separator: "\n").map { try jsonObject(String($0)) }.reduce(
            into: [String: String]()
        ) { $0[$1["name"] as? String ?? "?"] = $1["state"] as? String }
        #expect(states == ["cc-ws-001": "active", "cc-ws-002": "silent 3m", "cc-ws-003": "silent 10m, stopped"])

        let bad = try await FlightlogCLI.run(["agents", "--db", database, "--silence", "soon"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("soon"), "\(bad.stderr)")
    }
}

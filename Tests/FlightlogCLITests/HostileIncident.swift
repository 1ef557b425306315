import FlightlogEvidence
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation

/// The incident of ``IncidentFixture`` plus a third workstation whose log lines were written by the attacker:
/// markup and script in the raw lines and in the parsed fields, a terminal escape and a bidirectional override,
/// stored through the same ingest as every fixture (signed, chained batches), and a second chain epoch (a
/// `new_epoch` finding). Shared by the report tests, which only read it.
actor HostileIncident {
    static let shared = HostileIncident()
    private var fixture: IncidentFixture?

    static let agent = TestAgent(name: "cc-ws-666")
    /// Would mark the page if it ran.
    static let scriptLine = "<script>document.body.setAttribute('data-pwned','1')</script>"
    static let imageLine = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
    static let breakout = "\"><img src=x onerror=alert(1)>"

    func get() async throws -> IncidentFixture {
        if let fixture { return fixture }
        let made = try await IncidentFixture.make(in: try .untilExit())
        let agent = Self.agent
        let store = try Storage.open(path: made.database)
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let chain = try agent.chain([
            [
                try agent.event(
                    "2026-11-24T10:40:00Z",
                    "Nov 24 10:40:00 cc-ws-666 helpdesk-chat[77]: " + Self.scriptLine,
                    [("program", "helpdesk-chat"), ("user", Self.breakout)]
                ),
                try agent.event(
                    "2026-11-24T10:41:00Z",
                    "Nov 24 10:41:00 cc-ws-666 helpdesk-chat[77]: " + Self.imageLine,
                    [("program", "<b>chat</b>"), ("user", "it's \"me\"")]
                ),
                try agent.event(
                    "2026-11-24T10:42:00Z",
                    "Nov 24 10:42:00 cc-ws-666 sshd[78]: \u{1B}[31mred\u{1B}[0m user=\u{202E}nimda",
                    [("program", "sshd"), ("src_ip", "203.0.113.66")]
                ),
            ]
        ])
        try await agent.ingest(chain, into: store)
        // The agent's state wiped: a new chain in epoch 2, which the aggregator records as a finding.
        var reinstalled = agent
        reinstalled.epoch = 2
        let second = try reinstalled.chain([
            [try reinstalled.event("2026-11-24T10:44:00Z", "Nov 24 10:44:00 cc-ws-666 agent restarted", [])]
        ])
        try await reinstalled.ingest(second, into: store)
        try await store.drainFullTextIndex()
        self.fixture = made
        return made
    }
}

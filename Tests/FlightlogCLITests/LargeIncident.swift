import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation

/// A database of ``events`` events from two workstations over a month (signed, chained batches of 1,000 stored
/// through the store's ingest): for the bound on the HTML report's size. Built once, by the first test that asks.
actor LargeIncident {
    static let shared = LargeIncident()
    static let events = 100_000
    private var directory: TempDirectory?

    func get() async throws -> TempDirectory {
        if let directory { return directory }
        let made = try TempDirectory.untilExit()
        let store = try Storage.open(path: made.file("flightlog.db"))
        let start: Int64 = 1_793_491_200_000_000_000  // 2026-11-01T00:00:00Z
        let perAgent = Self.events / 2
        for name in ["cc-ws-101", "cc-ws-102"] {
            let agent = TestAgent(name: name)
            try await store.enroll(name: name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let batches = stride(from: 0, to: perAgent, by: 1_000).map { first in
                (first..<min(first + 1_000, perAgent)).map { n in
                    let time = start + Int64(n) * 52_000_000_000
                    let user = "agent\(n % 40)"
                    let ip = "10.0.\(n % 200).\(n % 7 + 1)"
                    return Event(
                        timeNanos: time,
                        observedNanos: time + 1_000_000,
                        host: name,
                        source: "/var/log/auth.log",
                        line: Array("\(name) sshd[\(n % 900)]: Accepted publickey for \(user) from \(ip) port 22".utf8),
                        fields: [
                            Event.Field("program", "sshd"), Event.Field("user", user), Event.Field("src_ip", ip),
                            Event.Field("action", "login"), Event.Field("outcome", "success"),
                        ]
                    )
                }
            }
            try await agent.ingest(try agent.chain(batches), into: store)
        }
        try await store.drainFullTextIndex()
        self.directory = made
        return made
    }
}

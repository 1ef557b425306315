import FlightlogTestSupport
import Testing

@testable import FlightlogAgent

/// `aggregators:` (several aggregators on one PostgreSQL store, docs/SCALE-OUT.md): read in order, checked like
/// `aggregator:`, and not given together with it.
@Suite struct AggregatorListTests {
    let dir: TempDirectory

    init() throws {
        self.dir = try TempDirectory()
    }

    private func load(_ yaml: String) throws -> AgentConfiguration {
        try self.dir.overwrite("agent.yaml", "insecure_plaintext: true\nwatch: [/var/log/auth.log]\n" + yaml)
        return try AgentConfiguration.load(path: self.dir.file("agent.yaml"))
    }

    @Test func aListOfAggregatorsIsReadInOrder() throws {
        let configuration = try self.load("aggregators: [agg-1.example:7514, \"[2001:db8::2]:7515\", agg-3:7516]\n")
        #expect(
            configuration.aggregators == [
                AggregatorAddress(host: "agg-1.example", port: 7514),
                AggregatorAddress(host: "2001:db8::2", port: 7515),
                AggregatorAddress(host: "agg-3", port: 7516),
            ]
        )
        #expect(
            configuration.aggregators.map(\.description) == ["agg-1.example:7514", "[2001:db8::2]:7515", "agg-3:7516"]
        )
        #expect(configuration.aggregatorHost == "agg-1.example")
    }

    @Test func aBadListIsRefusedWithItsReason() throws {
        #expect(throws: AgentError.configuration("give aggregator or aggregators, not both")) {
            try self.load("aggregator: a:1\naggregators: [b:2]\n")
        }
        #expect(throws: AgentError.configuration("aggregator must be HOST:PORT, got 'b'")) {
            try self.load("aggregators: [a:1, b]\n")
        }
        #expect(throws: AgentError.configuration("aggregators must list at least one")) {
            try self.load("aggregators: []\n")
        }
    }
}

import Testing
import Yams

@testable import FlightlogSigma

/// The correlation windows on hand-made matches (times in seconds).
@Suite("Sigma correlation windows")
struct CorrelationWindowTests {
    func correlation(_ yaml: String) throws -> SigmaCorrelation {
        let map = try #require(try Yams.load(yaml: yaml) as? [String: Any])
        return try SigmaCorrelation(map, generate: false)
    }

    func input(_ second: Int64, rule: Int = 0, key: String = "u", value: String? = nil, id: Int64) -> CorrelationInput {
        CorrelationInput(
            start: second * 1_000_000_000,
            end: second * 1_000_000_000,
            key: [key],
            value: value,
            rule: rule,
            eventIDs: [id]
        )
    }

    @Test func eventCountHitsDoNotShareMatchesAndGroupsStaySeparate() throws {
        let rule = try self.correlation(
            "type: event_count\nrules: [a]\ngroup-by: [user]\ntimespan: 10s\ncondition: {gte: 2}"
        )
        let hits = rule.hits([
            self.input(0, id: 1), self.input(5, id: 2), self.input(8, id: 3), self.input(30, id: 4),
            self.input(31, key: "v", id: 5), self.input(39, id: 6),
        ])
        // 0+5 make a hit; 8 alone has nothing within 10 s after it but nothing before it is free; 30+39 hit;
        // user v's single event does not count towards u.
        #expect(hits.map(\.eventIDs) == [[1, 2], [4, 6]])
    }

    @Test func upperBoundsLookAtTheWholeWindow() throws {
        let rule = try self.correlation("type: event_count\nrules: [a]\ntimespan: 10s\ncondition: {lt: 2}")
        let hits = rule.hits([self.input(0, id: 1), self.input(5, id: 2), self.input(30, id: 3)])
        // [0, 10] holds two events (no hit); from 5: one (hit); from 30: one (hit).
        #expect(hits.map(\.eventIDs) == [[2], [3]])
    }

    @Test func valueCountCountsDistinctValuesInASlidingWindow() throws {
        let rule = try self.correlation(
            "type: value_count\nrules: [a]\ntimespan: 10s\ncondition: {field: ip, gte: 3}"
        )
        let hits = rule.hits([
            self.input(0, value: "x", id: 1), self.input(2, value: "x", id: 2), self.input(9, value: "y", id: 3),
            self.input(15, value: "z", id: 4), self.input(16, value: nil, id: 5),
        ])
        // From 0: x, y (2 values); from 9: y, z (2); nothing has three in 10 s.
        #expect(hits.isEmpty)
        let wider = try self.correlation("type: value_count\nrules: [a]\ntimespan: 15s\ncondition: {field: ip, gte: 3}")
        #expect(
            wider.hits([
                self.input(0, value: "x", id: 1), self.input(2, value: "x", id: 2), self.input(9, value: "y", id: 3),
                self.input(15, value: "z", id: 4),
            ]).map(\.eventIDs) == [[1, 2, 3, 4]]
        )
    }

    @Test func orderedChainsTakeTheEarliestNextMatchWithinTheSpanOfTheFirst() throws {
        let rule = try self.correlation("type: temporal_ordered\nrules: [a, b, c]\ntimespan: 60s")
        let hits = rule.hits([
            self.input(0, rule: 1, id: 1),  // b before any a: not part of a chain
            self.input(10, rule: 0, id: 2),
            self.input(20, rule: 0, id: 3),
            self.input(25, rule: 2, id: 4),  // c before b: skipped
            self.input(30, rule: 1, id: 5),
            self.input(40, rule: 2, id: 6),
            self.input(100, rule: 0, id: 7),
            self.input(150, rule: 1, id: 8),
            self.input(170, rule: 2, id: 9),  // 70 s after a at 100: too late
        ])
        #expect(hits.map(\.eventIDs) == [[2, 3, 5, 6]])
    }

    @Test func theSpecificationsExamplesParseAndBadOnesSayWhy() throws {
        #expect(throws: SigmaError.self) { try self.correlation("type: event_count\nrules: [a]\ntimespan: 1h") }
        #expect(throws: SigmaError.self) {
            try self.correlation("type: value_count\nrules: [a]\ntimespan: 1h\ncondition: {gte: 1}")
        }
        #expect(throws: SigmaError.self) { try self.correlation("type: temporal\nrules: [a]\ntimespan: 1w") }
        #expect(throws: SigmaError.self) {
            try self.correlation("type: temporal\nrules: [a]\ntimespan: 1h\ncondition: {above: 1}")
        }
        let parsed = try self.correlation(
            "type: temporal\nrules: [a, b]\ngroup-by: [ComputerName, User]\ntimespan: 90m\naliases: {ip: {a: src_ip, b: dst_ip}}"
        )
        #expect(parsed.timespanNanos == 5_400_000_000_000)
        #expect(parsed.field("ip", in: "b", also: nil) == "dst_ip")
        #expect(parsed.needsEveryRule)
        #expect(parsed.ignoredKeys.isEmpty)
        // The specification's first draft spelled temporal_ordered as `ordered: true`: not silently taken.
        #expect(
            try self.correlation("type: temporal\nrules: [a, b]\ntimespan: 5m\nordered: true").ignoredKeys == [
                "ordered"
            ]
        )
    }
}

import FlightlogSigma
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogStore

/// Sigma correlation rules over the incident database, run by the store.
@Suite("Sigma correlation rules")
struct SigmaCorrelationTests {
    /// Loads `correlation` (a YAML document, first in its file) with ``parts`` from a fresh directory, and runs
    /// the correlation titled `c` over the incident database.
    func hits(_ correlation: String, narrowing: Bool = true) async throws -> [CorrelationHit] {
        let fixture = try await SharedIncident.shared.get()
        let directory = try TempDirectory()
        defer { directory.cleanup() }
        try ("title: c\n" + correlation + "\n" + IncidentRules.correlationParts).write(
            toFile: directory.file("c.yml"),
            atomically: true,
            encoding: .utf8
        )
        let rules = try SigmaRule.load(directory: directory.path)
        let rule = try #require(rules.first { $0.title == "c" })
        #expect(rule.correlation != nil, "\(rule.unsupported)")
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        return try store.correlate(rule, in: SigmaRuleSet(rules: rules), query: EventQuery(), narrowing: narrowing)
    }

    @Test func eventCountFindsTwoResetsWithinFiveMinutesAndNotThree() async throws {
        let two = try await self.hits(
            "correlation:\n  type: event_count\n  rules: [desk]\n  group-by: [user]\n  timespan: 5m\n  condition:\n    gte: 2"
        )
        #expect(two.count == 1)
        #expect(two.first?.group == [CorrelationHit.GroupValue(field: "user", value: "mchen")])
        #expect(two.first?.matches == 2)
        let three = try await self.hits(
            "correlation:\n  type: event_count\n  rules: [desk]\n  group-by: [user]\n  timespan: 5m\n  condition:\n    gte: 3"
        )
        #expect(three.isEmpty)
        // The two resets are 90 s apart: a 1-minute window holds one only.
        let short = try await self.hits(
            "correlation:\n  type: event_count\n  rules: [desk]\n  group-by: [user]\n  timespan: 1m\n  condition:\n    gte: 2"
        )
        #expect(short.isEmpty)
    }

    @Test func valueCountFindsASecondSourceAddressOnlyInsideTheTimespan() async throws {
        // mchen logs in from 10.20.30.40 on the 23rd at 09:01 and from 203.0.113.77 on the 24th at 10:09.
        let twoDays = try await self.hits(
            "correlation:\n  type: value_count\n  rules: [login]\n  group-by: [user]\n  timespan: 2d\n"
                + "  condition:\n    field: src_ip\n    gte: 2"
        )
        #expect(twoDays.map(\.group) == [[CorrelationHit.GroupValue(field: "user", value: "mchen")]])
        let oneDay = try await self.hits(
            "correlation:\n  type: value_count\n  rules: [login]\n  group-by: [user]\n  timespan: 1d\n"
                + "  condition:\n    field: src_ip\n    gte: 2"
        )
        #expect(oneDay.isEmpty)
    }

    @Test func temporalIgnoresOrderAndTemporalOrderedKeepsIt() async throws {
        // Consent at 10:15:40, export at 10:31:05: listed the other way round.
        let unordered = try await self.hits(
            "correlation:\n  type: temporal\n  rules: [export, consent]\n  group-by: [user]\n  timespan: 30m"
        )
        #expect(unordered.count == 1)
        #expect(unordered.first?.eventIDs.count == 2)
        let wrongOrder = try await self.hits(
            "correlation:\n  type: temporal_ordered\n  rules: [export, consent]\n  group-by: [user]\n  timespan: 30m"
        )
        #expect(wrongOrder.isEmpty)
        let rightOrder = try await self.hits(
            "correlation:\n  type: temporal_ordered\n  rules: [consent, export]\n  group-by: [user]\n  timespan: 30m"
        )
        #expect(rightOrder.count == 1)
        let tooShort = try await self.hits(
            "correlation:\n  type: temporal_ordered\n  rules: [consent, export]\n  group-by: [user]\n  timespan: 10m"
        )
        #expect(tooShort.isEmpty)
    }

    @Test func correlationsOfCorrelations() async throws {
        // Two help-desk events within five minutes, then a login within the hour, per user.
        let hits = try await self.hits(
            """
            correlation:
              type: temporal_ordered
              rules: [two_desk_events, login]
              group-by: [user]
              timespan: 1h
            ---
            title: two desk events
            name: two_desk_events
            correlation:
              type: event_count
              rules: [desk]
              group-by: [user]
              timespan: 5m
              condition:
                gte: 2
            """
        )
        #expect(hits.count == 1)
        #expect(hits.first?.eventIDs.count == 3, "both resets and the 10:09 login")
    }

    @Test func aliasesGroupDifferentFieldsAndEventsWithoutTheFieldDropOut() async throws {
        let aliased = try await self.hits(
            """
            correlation:
              type: temporal_ordered
              rules: [desk, consent]
              group-by: [who]
              timespan: 1h
              aliases:
                who:
                  desk: user
                  consent: user
            """
        )
        #expect(aliased.map(\.group) == [[CorrelationHit.GroupValue(field: "who", value: "mchen")]])
        let missing = try await self.hits(
            "correlation:\n  type: temporal_ordered\n  rules: [desk, consent]\n  group-by: [who]\n  timespan: 1h"
        )
        #expect(missing.isEmpty)
    }

    /// Narrowing the later rules to the first rule's groups and times changes the cost, never the hits.
    @Test(arguments: [
        "correlation:\n  type: temporal_ordered\n  rules: [desk, login]\n  group-by: [user]\n  timespan: 1h",
        "correlation:\n  type: temporal\n  rules: [consent, login]\n  group-by: [user, host]\n  timespan: 1h",
        "correlation:\n  type: temporal_ordered\n  rules: [login, consent, export]\n  group-by: [src_ip]\n  timespan: 1h",
        "correlation:\n  type: temporal\n  rules: [desk, login]\n  timespan: 2d",
    ])
    func narrowingFindsWhatAFullReadFinds(yaml: String) async throws {
        let narrowed = try await self.hits(yaml)
        let whole = try await self.hits(yaml, narrowing: false)
        #expect(!whole.isEmpty, "the case must have a hit to compare")
        #expect(narrowed == whole)
    }
}

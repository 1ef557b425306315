import FlightlogStore
import FlightlogTestSupport
import Foundation
import Testing

/// The export and hunt fast paths must give exactly what the general paths give.
@Suite("fast paths agree with the general ones")
struct FastPathTests {
    @Test(arguments: [nil, "Europe/Paris"] as [String?])
    func jsonFromTheStatementIsTheRecordsJSON(zone: String?) async throws {
        let fixture = try await SharedIncident.shared.get()
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        let times = TimeFormatter(zone: zone.flatMap(TimeZone.init(identifier:)))
        for style in [EventJSON.Style.plain, .timesketch(clock: .event), .timesketch(clock: .received)] {
            var expected: [[UInt8]] = []
            try store.forEachEvent(EventQuery()) { event in
                expected.append(EventJSON.encode(event, style: style, times: times))
                return true
            }
            var actual: [[UInt8]] = []
            try store.forEachEventJSON(EventQuery(), style: style, times: times) { object in
                actual.append(object)
                return true
            }
            #expect(expected.count > 10)
            #expect(actual.count == expected.count)
            for (got, want) in zip(actual, expected) {
                #expect(String(decoding: got, as: UTF8.self) == String(decoding: want, as: UTF8.self))
            }
        }
    }

    @Test func timestampBytesAreTheString() {
        for nanos: Int64 in [0, 1, -1, 999_999_999, 1_795_000_000_123_456_789, -86_400_000_000_001, .max, .min] {
            var bytes: [UInt8] = []
            Timestamp.appendRFC3339(nanos, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == Timestamp.rfc3339(nanos))
        }
    }

    /// Every starter rule, and every rule of the translation table, finds through the full-text index exactly
    /// the events it finds by scanning.
    @Test func fullTextCandidatesLoseNothingOnTheIncident() async throws {
        let fixture = try await SharedIncident.shared.get()
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        var rules = try SigmaRule.load(directory: HuntCommandTests.rulePack)
        for yaml in [
            "detection:\n  keywords:\n    - anydesk\n    - 'password reset'\n  condition: keywords",
            "detection:\n  sel:\n    message|contains|all: [reset, INC-4711]\n  condition: sel",
            "detection:\n  sel:\n    program|startswith: CRM\n    message|contains: export\n  condition: sel",
            "detection:\n  a:\n    - 'Data Loader'\n  b:\n    message|endswith: 'preauth]'\n  condition: a or b",
            "detection:\n  a:\n    - 'loader'\n  b:\n    user: mchen\n  condition: a and not b",
        ] {
            rules.append(SigmaRule(file: "t.yml", yaml: "title: t\n" + yaml))
        }
        var accelerated = 0
        for rule in rules {
            let condition = try #require(rule.condition, "\(rule.file): \(rule.unsupported)")
            if condition.fullTextExpression != nil { accelerated += 1 }
            func ids(_ condition: TranslatedCondition) throws -> [Int64] {
                var query = EventQuery()
                query.rule = condition
                var ids: [Int64] = []
                try store.forEachEvent(query) { event in
                    ids.append(event.id)
                    return true
                }
                return ids
            }
            let scanned = try ids(condition.scanning)
            #expect(try ids(condition) == scanned, "\(rule.title): \(condition.fullTextExpression ?? "-")")
        }
        #expect(accelerated >= 4)
    }

    @Test(
        arguments: [
            ("bulk_export", #""bulk_export" *"#),
            ("Bulk API", #""Bulk API" *"#),
            ("say \"hi\"", #""say ""hi""""#),
            ("data*loader", nil),
            ("café", nil),
            ("::", nil),
        ] as [(String, String?)]
    )
    func keywordPhrases(keyword: String, phrase: String?) {
        #expect(SigmaRule.fullTextPhrase(keyword) == phrase)
    }
}

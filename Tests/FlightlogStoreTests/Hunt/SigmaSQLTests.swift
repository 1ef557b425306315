import FlightlogSigma
import FlightlogStoreTestSupport
import Foundation
import Testing

@testable import FlightlogStore

/// Sigma detections compiled to SQL by the store, counted over the incident database.
@Suite("Sigma detections compiled to SQL")
struct SigmaSQLTests {
    @Test(
        arguments: [
            ("detection:\n  sel:\n    user: MCHEN\n  condition: sel", 8),
            ("detection:\n  sel:\n    user|startswith: mc\n    action: login\n  condition: sel", 2),
            ("detection:\n  sel:\n    app|contains: loader\n  condition: sel", 2),
            ("detection:\n  sel:\n    event|re: '^bulk'\n  condition: sel", 1),
            ("detection:\n  sel:\n    message|contains|all: [reset, INC-4711]\n  condition: sel", 2),
            ("detection:\n  a:\n    user: mchen\n  b:\n    src_ip: 203.0.113.77\n  condition: a and not b", 5),
            ("detection:\n  a:\n    user: mchen\n  b:\n    user: tpatel\n  condition: (a or b) and not a", 3),
            ("detection:\n  keywords:\n    - anydesk\n    - 'data*loader'\n  condition: keywords", 3),
            ("detection:\n  s1:\n    program: crm-audit\n  s2:\n    user: mchen\n  condition: all of s*", 2),
            ("detection:\n  s1:\n    program: crm-audit\n  s2:\n    program: kernel\n  condition: 1 of them", 3),
            ("detection:\n  sel:\n    - user: tpatel\n      action: login\n    - program: kernel\n  condition: sel", 2),
            // An empty value list matches nothing (it compiled to `()`, an SQL syntax error, before the typed tree).
            ("detection:\n  sel:\n    user: []\n  condition: sel", 0),
        ] as [(String, Int)]
    )
    func translatesTheSupportedSubset(yaml: String, expected: Int) async throws {
        let fixture = try await SharedIncident.shared.get()
        let rule = SigmaRule(file: "t.yml", yaml: "title: t\n" + yaml)
        let detection = try #require(rule.detection, "\(rule.unsupported)")
        var query = EventQuery()
        query.rule = SigmaSQLCompiler.compile(detection)
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        #expect(try store.countEvents(query) == expected, "\(yaml)")
    }
}

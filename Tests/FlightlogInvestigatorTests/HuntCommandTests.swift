import FlightlogSigma
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogStore

@Suite("flightlog hunt with Sigma rules")
struct HuntCommandTests {
    @Test func starterPackFindsEachIncidentStepInOrder() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try fixture.cli("hunt", "--rules", RepositoryFiles.rulePack, "--format", "jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try result.lines.map(jsonObject)
        var matches: [String: [[String: Any]]] = [:]
        for object in objects where object["type"] as? String == "match" {
            matches[object["rule"] as? String ?? "", default: []].append(object["event"] as? [String: Any] ?? [:])
        }
        func first(_ titlePrefix: String) throws -> [String: Any] {
            let key = try #require(
                matches.keys.first { $0.hasPrefix(titlePrefix) },
                "no matches for \(titlePrefix): \(matches.keys)"
            )
            return try #require(matches[key]?.first)
        }
        let correlation = try #require(
            matches.first { $0.key.hasPrefix("Help-desk password or MFA reset followed by a login") }?.value,
            "the reset-then-login correlation found nothing: \(matches.keys)"
        )
        let reset = try #require(
            correlation.first { ($0["message"] as? String)?.contains("password reset for user=mchen") == true }
        )
        let login = try #require(correlation.first { ($0["fields"] as? [String: String])?["action"] == "login" })
        let consent = try first("OAuth or connected-app consent")
        let export = try first("Bulk export of customer records")
        let remote = try first("Remote-access tool launched")
        let offHours = try first("CRM access outside working hours")
        #expect(login["ip"] as? String == "203.0.113.77")
        // One hit: mchen, with both resets (password, then MFA) and the first external login after them; the
        // internal logins of the baseline day and of tpatel are not part of it.
        let hits = objects.filter { $0["type"] as? String == "hit" }
        #expect(hits.count == 1)
        #expect(hits.first?["group"] as? [String: String] == ["user": "mchen"])
        #expect(hits.first?["matches"] as? Int == 3)
        #expect(correlation.count == 3)
        #expect(correlation.allSatisfy { $0["user"] as? String == "mchen" })
        #expect((consent["fields"] as? [String: String])?["app"] == "Data Loader")
        #expect((export["fields"] as? [String: String])?["records"] == "48210")
        #expect(remote["host"] as? String == "cc-ws-611")
        #expect((offHours["message"] as? String)?.contains("22:30:00") == true)
        let times = [reset, login, consent, export, remote].map { $0["time"] as? String ?? "" }
        #expect(times == times.sorted(), "incident steps out of order: \(times)")
        // Five rules run on their own (the correlation's two parts do not, as Sigma specifies), and nothing is
        // silently ignored: every rule says that logsource does not narrow the search, the correlation for its parts.
        let rules = objects.filter { $0["type"] as? String == "rule" }
        #expect(rules.count == 5)
        #expect(rules.allSatisfy { ($0["notes"] as? [String])?.isEmpty == false })
        #expect(rules.contains { $0["correlation"] as? String == "temporal_ordered" })
        // Correlations find rules by name or id: the pack's must be unique.
        let pack = try SigmaRule.load(directory: RepositoryFiles.rulePack)
        let ids = pack.compactMap(\.id)
        #expect(ids.count == pack.count && Set(ids).count == ids.count, "\(ids)")
    }

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

    @Test(arguments: [
        ("detection:\n  sel:\n    user|base64: x\n  condition: sel", "modifier 'base64'"),
        ("detection:\n  sel:\n    user: x\n  condition: sel and missing", "not defined"),
        ("detection:\n  sel:\n    user: x\n  condition: (sel", "parenthesis"),
        ("detection: [", "not valid YAML"),
    ])
    func reportsWhatItCannotTranslate(yaml: String, reason: String) {
        let rule = SigmaRule(file: "t.yml", yaml: "title: t\n" + yaml)
        #expect(rule.detection == nil)
        #expect(rule.unsupported.contains { $0.contains(reason) }, "\(rule.unsupported)")
    }

    /// A rule file is input: a condition nesting `not` and parentheses thousands deep overflowed the stack of the
    /// recursive parser. The nesting is bounded; what SigmaHQ's rules use (a few levels) is far below it.
    @Test(arguments: [
        String(repeating: "not ", count: 100_000) + "sel",
        String(repeating: "(", count: 100_000) + "sel" + String(repeating: ")", count: 100_000),
    ])
    func aConditionNestedThousandsDeepIsRefused(condition: String) {
        let rule = SigmaRule(
            file: "t.yml",
            yaml: "title: t\ndetection:\n  sel:\n    user: x\n  condition: \(condition)\n"
        )
        #expect(rule.detection == nil)
        #expect(rule.unsupported.contains { $0.contains("deeper than 64 levels") }, "\(rule.unsupported.prefix(3))")
        let shallow = SigmaRule(
            file: "t.yml",
            yaml: "title: t\ndetection:\n  sel:\n    user: x\n  condition: "
                + String(repeating: "not (", count: 30) + "sel" + String(repeating: ")", count: 30) + "\n"
        )
        #expect(shallow.detection != nil, "\(shallow.unsupported)")
    }

    @Test func runsApproximationsAndSaysSo() {
        let rule = SigmaRule(
            file: "t.yml",
            yaml:
                "title: t\ndetection:\n  sel:\n    action: login\n  timeframe: 5m\n  condition: sel | count() by src_ip > 10\n"
        )
        #expect(rule.detection != nil)
        #expect(rule.unsupported.contains { $0.contains("timeframe") })
        #expect(rule.unsupported.contains { $0.contains("aggregation") })
    }

    @Test func aMissingRulesDirectoryIsAUsageErrorInPlainWords() async throws {
        let fixture = try await SharedIncident.shared.get()
        for path in ["/nonexistent-rules", "/etc/hostname"] {
            let result = try fixture.cli("hunt", "--rules", path)
            #expect(result.status == 2)
            #expect(result.stderr.contains("no rules directory at \(path)"), "\(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain"))
        }
    }
}

import FlightlogSigma
import Testing

/// What the rule language cannot say, or says only approximately, is reported with the rule, never silently dropped;
/// a condition nested deeper than the parser goes is refused.
@Suite("Sigma rules: what is refused or approximated, and said")
struct SigmaUnsupportedTests {
    @Test(arguments: [
        ("detection:\n  sel:\n    user|expand: x\n  condition: sel", "modifier 'expand'"),
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
}

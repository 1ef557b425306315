import FlightlogSigma
import Testing

/// The detection grammar, read into the typed tree with no database: what each form becomes, and what is refused
/// with which words.
@Suite("Sigma detections parsed into a typed tree")
struct SigmaDetectionTests {
    func detection(_ yaml: String) -> (SigmaExpression?, [String]) {
        let rule = SigmaRule(file: "t.yml", yaml: "title: t\ndetection:\n" + yaml)
        return (rule.detection, rule.unsupported)
    }

    func match(_ field: String, _ modifier: SigmaModifier, _ value: String) -> SigmaExpression {
        .match(SigmaFieldMatch(field: field, modifier: modifier, value: .text(value)))
    }

    func match(_ field: String, _ value: String) -> SigmaExpression { self.match(field, .equals, value) }

    @Test func aMapIsTheConjunctionOfItsFieldsInNameOrder() {
        let (tree, notes) = self.detection("  sel:\n    user: mchen\n    action: login\n  condition: sel\n")
        #expect(tree == .all([self.match("action", "login"), self.match("user", "mchen")]), "\(notes)")
    }

    @Test func aListOfMapsIsADisjunctionAndValueListsFollowAll() {
        let (tree, _) = self.detection(
            "  sel:\n    - user|contains|all: [a, b]\n    - program|startswith: [crm, sap]\n  condition: sel\n"
        )
        #expect(
            tree
                == .any([
                    .all([self.match("user", .contains, "a"), self.match("user", .contains, "b")]),
                    .any([self.match("program", .startswith, "crm"), self.match("program", .startswith, "sap")]),
                ])
        )
    }

    /// Sigma's keyword list with modifiers and no field name (SigmaHQ's `rules/linux` uses `'|all':`): every
    /// keyword in the line, not a field called `all`.
    @Test func aKeywordListWithModifiersAndNoFieldName() {
        let (all, notes) = self.detection("  kw:\n    '|all':\n      - 'rm -rf'\n      - '/var/log'\n  condition: kw\n")
        #expect(all == .all([.keyword("rm -rf"), .keyword("/var/log")]), "\(notes)")
        let (any, _) = self.detection("  kw:\n    '|contains': [a, b]\n  condition: kw\n")
        #expect(any == .any([.keyword("a"), .keyword("b")]))
        let (_, refused) = self.detection("  kw:\n    '|startswith': [a]\n  condition: kw\n")
        #expect(refused.contains { $0.contains("modifier 'startswith' on a keyword list") }, "\(refused)")
    }

    @Test func keywordsNullsNumbersAndEmptyMaps() {
        let (keywords, _) = self.detection("  kw:\n    - anydesk\n    - 42\n  condition: kw\n")
        #expect(keywords == .any([.keyword("anydesk"), .keyword("42")]))
        let (null, _) = self.detection("  sel:\n    tty: null\n  condition: sel\n")
        #expect(null == .match(SigmaFieldMatch(field: "tty", modifier: .equals, value: .null)))
        let (empty, _) = self.detection("  sel: {}\n  condition: sel\n")
        #expect(empty == .always)
    }

    @Test func conditionOperatorsAndQuantifiers() {
        let selections = "  a1:\n    user: x\n  a2:\n    user: y\n  b:\n    host: h\n"
        let (tree, _) = self.detection(selections + "  condition: 1 of a* and not b\n")
        let eitherUser = SigmaExpression.any([self.match("user", "x"), self.match("user", "y")])
        #expect(tree == .all([eitherUser, .not(self.match("host", "h"))]))
        let (all, _) = self.detection(selections + "  condition: all of them\n")
        #expect(all == .all([self.match("user", "x"), self.match("user", "y"), self.match("host", "h")]))
        let (grouped, _) = self.detection(selections + "  condition: (a1 or a2) and b\n")
        #expect(grouped == .all([eitherUser, self.match("host", "h")]))
    }

    @Test(arguments: [
        ("  sel:\n    user|base64: x\n  condition: sel\n", "modifier 'base64' (on user) is not supported"),
        ("  sel:\n    user: x\n  condition: sel and missing\n", "'missing', which is not defined"),
        ("  sel:\n    user: x\n  condition: (sel\n", "a parenthesis is not closed"),
        ("  sel:\n    user: x\n  condition: 1 of z*\n", "no selection matches 'z*'"),
        ("  sel:\n    'us er': x\n  condition: sel\n", "field name 'us er' cannot be looked up"),
        ("  sel:\n    cmd|re: '(unclosed'\n  condition: sel\n", "the regular expression '(unclosed' does not compile"),
        ("  sel:\n    user:\n      nested: map\n  condition: sel\n", "the value of user is not a plain value"),
        ("  sel: 5\n  condition: sel\n", "selection 'sel' is neither a map nor a list"),
    ])
    func refusalsSayWhy(yaml: String, reason: String) {
        let (tree, notes) = self.detection(yaml)
        #expect(tree == nil)
        #expect(notes.contains { $0.contains(reason) }, "\(notes)")
    }
}

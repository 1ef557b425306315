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

    /// Sigma's value modifiers, as the specification and pySigma define them.
    @Test func valueModifiersBecomeValuesComparisonsAndPatterns() {
        // base64offset of `http://` (the specification's example: the three forms it takes in a longer text).
        #expect(SigmaText.base64Offsets("http://") == ["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"])
        let (offsets, _) = self.detection("  sel:\n    cmd|base64offset|contains: 'http://'\n  condition: sel\n")
        #expect(
            offsets
                == .any(["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"].map { self.match("cmd", .contains, $0) })
        )
        let (base64, _) = self.detection("  sel:\n    cmd|base64: 'ls -la'\n  condition: sel\n")
        #expect(base64 == self.match("cmd", "bHMgLWxh"))
        let (windash, _) = self.detection("  sel:\n    cmd|windash|contains: ' -enc '\n  condition: sel\n")
        #expect(
            windash
                == .any(
                    [" -enc ", " /enc ", " \u{2013}enc ", " \u{2014}enc ", " \u{2015}enc "].map {
                        self.match("cmd", .contains, $0)
                    }
                )
        )
        let (present, _) = self.detection("  sel:\n    tty|exists: true\n  condition: sel\n")
        #expect(present == .not(.match(SigmaFieldMatch(field: "tty", modifier: .equals, value: .null))))
        let (absent, _) = self.detection("  sel:\n    tty|exists: false\n  condition: sel\n")
        #expect(absent == .match(SigmaFieldMatch(field: "tty", modifier: .equals, value: .null)))
        let (regex, _) = self.detection("  sel:\n    cmd|re|i|s: 'a.b'\n  condition: sel\n")
        #expect(regex == self.match("cmd", .re, "(?is)a.b"))
        let (number, _) = self.detection("  sel:\n    bytes|gte: 1e3\n  condition: sel\n")
        #expect(number == self.match("bytes", .gte, "1000.0"))
        let (network, _) = self.detection("  sel:\n    src_ip|cidr: 10.0.0.0/8\n  condition: sel\n")
        #expect(network == self.match("src_ip", .cidr, "10.0.0.0/8"))
        let (reference, _) = self.detection("  sel:\n    user|fieldref: target_user\n  condition: sel\n")
        #expect(reference == self.match("user", .fieldref, "target_user"))
        for (yaml, reason) in [
            ("src_ip|cidr: 10.0.0/8", "needs a network"), ("bytes|gt: ten", "needs a number"),
            ("cmd|base64: 'a*'", "cannot be encoded"), ("tty|exists: maybe", "takes true or false"),
            ("cmd|expand: '%x%'", "modifier 'expand'"),
        ] {
            let (_, notes) = self.detection("  sel:\n    " + yaml + "\n  condition: sel\n")
            #expect(notes.contains { $0.contains(reason) }, "\(yaml): \(notes)")
        }
    }

    @Test func numbersAndNetworksAsSigmaTextReadsThem() {
        #expect(SigmaText.number("42") == 42 && SigmaText.number("-1.5") == -1.5 && SigmaText.number("2e3") == 2000)
        for text in ["", "0x10", "inf", "nan", "1,5", " 1", "1 ", "-", "e3", "1e"] {
            #expect(SigmaText.number(text) == nil, "\(text)")
        }
        #expect(SigmaText.isAddress("10.1.2.3", in: "10.0.0.0/8"))
        #expect(!SigmaText.isAddress("11.1.2.3", in: "10.0.0.0/8"))
        #expect(SigmaText.isAddress("2001:db8::7", in: "2001:db8::/32"))
        #expect(!SigmaText.isAddress("2001:db9::7", in: "2001:db8::/32"))
        #expect(SigmaText.isAddress("::ffff:1.2.3.4", in: "::ffff:0:0/96"))
        #expect(!SigmaText.isAddress("10.1.2.3", in: "::/0"), "families do not mix")
        #expect(SigmaText.isAddress("192.168.1.1", in: "192.168.1.1"))
        for text in ["1.2.3", "1.2.3.256", "01.2.3.4", "1::2::3", "1:2:3:4:5:6:7:8:9", "x", "1.2.3.4/33"] {
            #expect(SigmaText.network(text) == nil, "\(text)")
        }
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
        ("  sel:\n    user|expand: x\n  condition: sel\n", "modifier 'expand' (on user) is not supported"),
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

import FlightlogEvidence
import FlightlogSigma
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// The hunt's fast paths (candidates read from the full-text index) must find exactly what a scan of every row
/// finds.
@Suite("hunt fast paths agree with the general ones")
struct HuntFastPathTests {
    /// Every starter rule, and every rule of the translation table, finds through the full-text index exactly
    /// the events it finds by scanning.
    @Test func fullTextCandidatesLoseNothingOnTheIncident() async throws {
        let fixture = try await SharedIncident.shared.get()
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        // The detection rules (a correlation has none of its own: its parts are checked here).
        var rules = try SigmaRule.load(directory: RepositoryFiles.rulePack).filter { $0.correlation == nil }
        for yaml in [
            "detection:\n  keywords:\n    - anydesk\n    - 'password reset'\n  condition: keywords",
            "detection:\n  sel:\n    message|contains|all: [reset, INC-4711]\n  condition: sel",
            "detection:\n  sel:\n    program|startswith: CRM\n    message|contains: export\n  condition: sel",
            "detection:\n  a:\n    - 'Data Loader'\n  b:\n    message|endswith: 'preauth]'\n  condition: a or b",
            "detection:\n  a:\n    - 'loader'\n  b:\n    user: mchen\n  condition: a and not b",
        ] {
            rules.append(SigmaRule(file: "t.yml", yaml: "title: t\n" + yaml))
        }
        rules += Self.extraRules
        var accelerated = 0
        for rule in rules {
            let condition = SigmaSQLCompiler.compile(try #require(rule.detection, "\(rule.file): \(rule.unsupported)"))
            if condition.fullTextExpression != nil { accelerated += 1 }
            let scanned = try Self.ids(store, condition.scanning)
            #expect(try Self.ids(store, condition) == scanned, "\(rule.title): \(condition.fullTextExpression ?? "-")")
        }
        // Four rules have a keyword or `contains` of one word (anydesk, AnyDesk…, preauth], loader): a word index
        // cannot find one inside a longer word, so they scan.
        #expect(accelerated == rules.count - 4)
    }

    /// Every starter rule reads its candidates from the index's `program` and `fields` columns (before they were
    /// indexed, each of them scanned the whole store), and SQLite's plan says so.
    @Test func everyStarterRuleNarrowsThroughTheIndexes() async throws {
        let fixture = try await SharedIncident.shared.get()
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        let rules = try SigmaRule.load(directory: RepositoryFiles.rulePack).filter { $0.correlation == nil }
        #expect(rules.count == 6)
        for rule in rules {
            let condition = SigmaSQLCompiler.compile(try #require(rule.detection, "\(rule.file)"))
            // Its keywords (`AnyDesk`, `TeamViewer`…) are single words, found anywhere, even inside longer words.
            if rule.file == "remote_access_tool_launched.yml" {
                #expect(condition.fullTextExpression == nil)
                continue
            }
            let expression = try #require(condition.fullTextExpression, "\(rule.file) has no full-text side")
            #expect(expression.contains("attrs: "), "\(rule.file): \(expression)")
            var query = EventQuery()
            query.rule = condition
            let plan = try store.explain(query).plan.joined(separator: "\n")
            // Both files of the index are searched.
            #expect(plan.contains("SCAN fts.events_fts VIRTUAL TABLE"), "\(rule.file): \(plan)")
            #expect(plan.contains("SCAN fts1.events_fts VIRTUAL TABLE"), "\(rule.file): \(plan)")
            #expect(!plan.contains("SCAN e\n") && !plan.hasSuffix("SCAN e"), "\(rule.file): \(plan)")
        }
    }

    /// Rules whose hits all lie past the watermark (events the indexer has not reached, or an index file still
    /// filling after an upgrade) find what the scan finds; then the indexer catches up and they still do.
    @Test func eventsPastTheWatermarksAreStillChecked() async throws {
        let fixture = try await IncidentFixture.make()
        defer { fixture.cleanup() }
        let rules =
            try SigmaRule.load(directory: RepositoryFiles.rulePack).filter { $0.correlation == nil } + Self.extraRules
        func expectScanResults(_ state: String) throws {
            let store = try SQLiteStore(readOnlyPath: fixture.database)
            var matched = 0
            for rule in rules {
                let condition = SigmaSQLCompiler.compile(try #require(rule.detection))
                let scanned = try Self.ids(store, condition.scanning)
                #expect(try Self.ids(store, condition) == scanned, "\(state), \(rule.title)")
                matched += scanned.isEmpty ? 0 : 1
            }
            #expect(matched >= 8, "\(state)")
        }
        func updateIndex(_ sql: String) throws {
            for path in FullTextLayout.paths(for: fixture.database) {
                let fts = try DatabaseQueue(path: path)
                try fts.write { db in try db.execute(sql: sql) }
                try fts.close()
            }
        }
        try expectScanResults("complete")
        // Nothing indexed yet.
        try updateIndex(
            "INSERT INTO events_fts (events_fts) VALUES ('delete-all'); UPDATE fts_progress SET indexed_through = 0"
        )
        try expectScanResults("nothing indexed")
        try await SQLiteStore(path: fixture.database).drainFullTextIndex()
        try expectScanResults("caught up")
    }

    static let extraRules = [
        "detection:\n  sel:\n    program: ANYDESK\n  condition: sel",
        "detection:\n  sel:\n    program: 'crm-*o'\n    action|startswith: LOG\n  condition: sel",
        "detection:\n  sel:\n    app: data loader\n    event|endswith: export\n  condition: sel",
        "detection:\n  sel:\n    ticket|contains: '4711'\n  b:\n    - 'Data Loader'\n  condition: sel or b",
        "detection:\n  sel:\n    action|re: '^(login|logout)$'\n  condition: sel and not 1 of x*\n  x:\n    user: mchen",
        "detection:\n  sel:\n    records: 48210\n  condition: sel",
    ].map { SigmaRule(file: "t.yml", yaml: "title: t\n" + $0) }

    static func ids(_ store: SQLiteStore, _ condition: TranslatedCondition) throws -> [Int64] {
        var query = EventQuery()
        query.rule = condition
        var ids: [Int64] = []
        try store.forEachEvent(query) { event in
            ids.append(event.id)
            return true
        }
        return ids
    }

    @Test(
        arguments: [
            ("action", "equals", "login", #"attrs: {fields} : "action login""#),
            ("action", "startswith", "log", #"attrs: {fields} : "action log" *"#),
            ("action", "equals", "pass*reset", #"attrs: {fields} : "action pass" *"#),
            ("action", "equals", "*reset", #"attrs: {fields} : "action ""#),
            ("event", "contains", "bulk_export", #"attrs: {fields} : "event ""#),
            ("event", "endswith", "export", #"attrs: {fields} : "event ""#),
            ("event", "re", "^bulk", #"attrs: {fields} : "event ""#),
            ("program", "equals", "AnyDesk", #"attrs: {program} : "AnyDesk""#),
            ("ProcessName", "startswith", "crm", #"attrs: {program} : "crm" *"#),
            ("program", "contains", "desk", nil),
            ("program", "equals", "*desk", nil),
            ("message", "contains", "reset", nil),
            ("message", "contains", "password reset", #"line: "reset" *"#),
            ("message", "startswith", "reset", #"line: "reset" *"#),
            ("message", "endswith", "reset for", #"line: "for" *"#),
            ("user", "equals", "mchen", nil),
        ] as [(String, String, String, String?)]
    )
    func comparisonCandidates(field: String, modifier: String, value: String, expected: String?) throws {
        let modifier = try #require(SigmaModifier(rawValue: modifier))
        #expect(SigmaSQLCompiler.candidateDescription(field: field, modifier: modifier, value: value) == expected)
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
        #expect(SigmaSQLCompiler.fullTextPhrase(keyword) == phrase)
    }

    /// A keyword is a substring wherever it falls: its first word may end a longer word of the line.
    @Test(
        arguments: [
            ("bulk_export", #""export" *"#),
            ("export", nil),
            (" export", #"" export" *"#),
            ("password reset for", #""reset for" *"#),
            ("a.b.c", #""b.c" *"#),
            ("4711", nil),
        ] as [(String, String?)]
    )
    func substringPhrases(keyword: String, phrase: String?) {
        #expect(SigmaSQLCompiler.fullTextPhrase(substring: keyword) == phrase)
    }
}

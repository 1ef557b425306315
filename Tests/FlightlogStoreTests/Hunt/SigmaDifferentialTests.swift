import FlightlogEvidence
import FlightlogSigma
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogStore

/// Random rules against random events: what the store's compiled queries return (full-text candidates included)
/// must be what ``SigmaEvaluator`` (Sigma's meaning, in plain Swift) says, whatever state the full-text index is in.
///
/// Events mix case, punctuation, non-ASCII letters, repeated fields and words glued together; rule values are drawn
/// from the events' own values (substrings that start inside a word or span several, case flipped, wildcards put
/// in), so that most rules match something and the edges are met.
@Suite("Sigma rules: the store agrees with the reference evaluator")
struct SigmaDifferentialTests {
    static let words = [
        "Export", "export", "reexport", "bulk_export", "Bulk", "API", "password", "reset", "PASSWORD", "mchen", "MChen",
        "root", "a.b.c", "INC-4711", "4711", "café", "CAFÉ", "Straße", "Ωμέγα", "ΩΜΈΓΑ", "naïve", "100%", "under_score",
        "back\\slash", "quote\"d", "star*", "what?", "日本語", "Data", "Loader", "preauth]", "x",
    ]
    static let separators = [" ", " ", " ", "-", "_", ".", ": ", ", ", "/", ""]
    static let fieldKeys = ["user", "src_ip", "program", "action", "event", "app", "bytes", "client"]
    static let numbers = ["10", "2.5", "-3", "1e3", "abc", "007", "1000", "5"]
    static let addresses = [
        "10.1.2.3", "10.200.0.1", "192.168.0.1", "2001:db8::1", "2001:db9::5", "::ffff:10.1.2.3", "not-an-ip",
    ]
    static let networks = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "0.0.0.0/0", "::/0", "10.1.2.3"]

    /// One stored event as the evaluator sees it, through the store's column mapping (``EventColumn``): a column
    /// holds the first value of its key, every other field all of its values.
    struct StoredEvent: SigmaEventValues {
        var event: Event
        var line: String { String(decoding: self.event.line, as: UTF8.self) }

        func values(of field: String) -> [String]? {
            let all: (String) -> [String] = { key in self.event.fields.filter { $0.key == key }.map(\.value) }
            let found: [String]
            switch EventColumn.named(field) {
            case .line: found = [self.line]
            case .host: found = [self.event.host]
            case .source: found = [self.event.source]
            case .user: found = Array(all("user").prefix(1))
            case .sourceIP: found = Array(all("src_ip").prefix(1))
            case .program: found = Array(all("program").prefix(1))
            case .severity: found = Array(all("severity").prefix(1))
            case nil: found = all(FieldSchema.flightlogName(field))
            }
            return found.isEmpty ? nil : found
        }
    }

    static func text(_ random: inout SeededRandom, words count: Int) -> String {
        var out = ""
        for index in 0..<count {
            if index > 0 { out += random.pick(Self.separators) }
            out += random.pick(Self.words)
        }
        return out
    }

    static func events(_ random: inout SeededRandom, count: Int, agent: TestAgent) -> [Event] {
        (0..<count).map { index in
            var fields: [Event.Field] = []
            for key in Self.fieldKeys where random.next() % 3 != 0 {
                let value: String
                switch key {
                case "bytes": value = random.pick(Self.numbers)
                case "client": value = random.pick(Self.addresses)
                case "src_ip" where random.next() % 2 == 0: value = random.pick(Self.addresses)
                default: value = Self.text(&random, words: 1 + Int(random.next() % 2))
                }
                fields.append(Event.Field(key, value))
                // A repeated key: a JSON array in `fields`.
                if key == "event", random.next() % 3 == 0 {
                    fields.append(Event.Field(key, Self.text(&random, words: 1)))
                }
            }
            return Event(
                timeNanos: 1_700_000_000_000_000_000 + Int64(index),
                observedNanos: 1_700_000_000_000_000_000 + Int64(index),
                host: agent.name,
                source: "/var/log/app.log",
                line: Array(Self.text(&random, words: 3 + Int(random.next() % 6)).utf8),
                fields: fields
            )
        }
    }

    /// A value for a comparison, from an event's value: a piece of it (starting anywhere), case flipped at random,
    /// sometimes with a wildcard in it; or a word of the vocabulary.
    static func value(_ random: inout SeededRandom, from source: String?) -> String {
        guard let source, !source.isEmpty, random.next() % 5 != 0 else { return random.pick(Self.words) }
        let scalars = Array(source.unicodeScalars)
        let start = Int(random.next() % UInt64(scalars.count))
        let length = 1 + Int(random.next() % UInt64(scalars.count - start))
        var piece = String(String.UnicodeScalarView(scalars[start..<(start + length)]))
        switch random.next() % 4 {
        case 0: piece = piece.uppercased()
        case 1: piece = piece.lowercased()
        default: break
        }
        if piece.count > 2, random.next() % 4 == 0 {
            var characters = Array(piece)
            characters[1] = random.next() % 2 == 0 ? "*" : "?"
            piece = String(characters)
        }
        return piece
    }

    static func expression(_ random: inout SeededRandom, events: [Event], depth: Int) -> SigmaExpression {
        let event = random.pick(events)
        let stored = StoredEvent(event: event)
        switch random.next() % (depth > 0 ? 8 : 4) {
        case 0: return .keyword(Self.value(&random, from: stored.line))
        case 1, 2, 3:
            let field = random.pick(Self.fieldKeys + ["message", "missing", "user.name", "source.ip", "event.action"])
            if random.next() % 12 == 0 {
                return .match(SigmaFieldMatch(field: field, modifier: .equals, value: .null))
            }
            let modifier = random.pick([
                SigmaModifier.equals, .contains, .contains, .startswith, .endswith, .re, .cidr, .gt, .gte, .lt, .lte,
                .fieldref,
            ])
            switch modifier {
            case .cidr:
                return .match(SigmaFieldMatch(field: field, modifier: .cidr, value: .text(random.pick(Self.networks))))
            case .gt, .gte, .lt, .lte:
                let bound = random.pick(Self.numbers.filter { SigmaText.number($0) != nil })
                return .match(SigmaFieldMatch(field: field, modifier: modifier, value: .text(bound)))
            case .fieldref:
                let other = random.pick(Self.fieldKeys + ["message"])
                return .match(SigmaFieldMatch(field: field, modifier: .fieldref, value: .text(other)))
            default: break
            }
            let whole = stored.values(of: field).map { random.pick($0) }
            var text =
                modifier == .equals && random.next() % 2 == 0 && whole != nil
                ? (whole ?? "") : Self.value(&random, from: whole)
            if modifier == .re { text = NSRegularExpression.escapedPattern(for: text) }
            return .match(SigmaFieldMatch(field: field, modifier: modifier, value: .text(text)))
        case 4: return .not(Self.expression(&random, events: events, depth: depth - 1))
        case 5:
            return .all((0..<2).map { _ in Self.expression(&random, events: events, depth: depth - 1) })
        case 6:
            // A list, as SigmaHQ writes them: keywords, or `contains` values of one field (one
            // `sigma_contains_any` in SQL when the texts are plain ASCII), from several events.
            let field = random.pick(Self.fieldKeys + ["message", "missing", "user.name", "keywords", "keywords"])
            return .any(
                (0..<(2 + Int(random.next() % 4))).map { _ in
                    let stored = StoredEvent(event: random.pick(events))
                    if field == "keywords" { return .keyword(Self.value(&random, from: stored.line)) }
                    let text = Self.value(&random, from: stored.values(of: field).map { random.pick($0) })
                    return .match(SigmaFieldMatch(field: field, modifier: .contains, value: .text(text)))
                }
            )
        default:
            return .any((0..<3).map { _ in Self.expression(&random, events: events, depth: depth - 1) })
        }
    }

    static func storeIDs(_ store: SQLiteStore, _ expression: SigmaExpression) throws -> Set<Int64> {
        var query = EventQuery()
        query.rule = SigmaSQLCompiler.compile(expression)
        var ids = Set<Int64>()
        try store.forEachEvent(query) { event in
            ids.insert(event.id)
            return true
        }
        return ids
    }

    /// Every rule, on every event, in one state of the index; the events' ids are their order of ingest, from 1.
    static func compare(
        _ state: String,
        store: SQLiteStore,
        events: [Event],
        rules: [SigmaExpression]
    ) throws -> (matched: Int, accelerated: Int) {
        var matched = 0
        var accelerated = 0
        for rule in rules {
            let expected = Set(
                events.indices.filter { SigmaEvaluator.matches(rule, StoredEvent(event: events[$0])) }.map {
                    Int64($0 + 1)
                }
            )
            let found = try Self.storeIDs(store, rule)
            #expect(
                found == expected,
                "\(state): \(rule); store only \(found.subtracting(expected).sorted().prefix(5)), evaluator only \(expected.subtracting(found).sorted().prefix(5))"
            )
            if found != expected, ProcessInfo.processInfo.environment["SIGMA_DIFF_DEBUG"] != nil {
                print("DIFF \(state): \(rule)")
                for id in found.symmetricDifference(expected).sorted().prefix(3) {
                    let event = events[Int(id) - 1]
                    let fields = event.fields.map { "\($0.key)=\($0.value)" }
                    let line = String(decoding: event.line, as: UTF8.self)
                    print("  id \(id) store \(found.contains(id)) line: \(line) fields: \(fields)")
                }
            }
            if !expected.isEmpty { matched += 1 }
            if SigmaSQLCompiler.compile(rule).candidates != nil { accelerated += 1 }
        }
        try Self.compareSharedPasses(state, store: store, events: events, rules: rules)
        return (matched, accelerated)
    }

    /// The hunt's shared passes (``SQLiteStore/matchingEventIDs(_:_:maxMatches:)``) find what the evaluator finds:
    /// the random rules, and each joined to one rule that has candidates (`all(base, rule)` needs the base's search,
    /// whatever the rule adds), so that many rules meet in one statement, each with its own parameters, over shared
    /// candidates or a shared scan. A rule over `maxMatches` is left to run alone. Returns how many rules were answered.
    @discardableResult
    static func compareSharedPasses(
        _ state: String,
        store: SQLiteStore,
        events: [Event],
        rules: [SigmaExpression],
        maxMatches: Int = 1_000
    ) throws -> Int {
        var all = rules
        if let base = rules.first(where: { SigmaSQLCompiler.compile($0).candidates != nil }) {
            all += rules.map { SigmaExpression.all([base, $0]) }
        }
        let sets = try store.matchingEventIDs(all.map(SigmaSQLCompiler.compile), EventQuery(), maxMatches: maxMatches)
        #expect(sets.count == all.count)
        var answered = 0
        for (rule, found) in zip(all, sets) {
            let expected = Set(
                events.indices.filter { SigmaEvaluator.matches(rule, StoredEvent(event: events[$0])) }.map {
                    Int64($0 + 1)
                }
            )
            guard let found else {
                continue
            }
            #expect(Set(found) == expected, "\(state), shared pass: \(rule)")
            #expect(found.count == Set(found).count, "each event once")
            #expect(found.count <= maxMatches)
            answered += 1
        }
        return answered
    }

    @Test(arguments: [1 as UInt64, 2, 3])
    func randomRulesAgreeInEveryStateOfTheIndex(seed: UInt64) async throws {
        // Minutes of reference evaluation on a debug build: on a thread of its own (see offThePool).
        try await offThePool {
            let dir = try TempDirectory()
            defer { dir.cleanup() }
            var random = SeededRandom(state: 0x9E37_79B9_7F4A_7C15 &* seed)
            let agent = TestAgent(name: "ws-diff")
            let first = Self.events(&random, count: 300, agent: agent)
            let second = Self.events(&random, count: 100, agent: agent)
            let events = first + second
            let rules = (0..<150).map { _ in Self.expression(&random, events: events, depth: 2) }
            let path = dir.file("db.sqlite")
            do {
                let store = try SQLiteStore(path: path)
                try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
                let batches = try agent.chain(
                    stride(from: 0, to: events.count, by: 50).map { Array(events[$0..<min($0 + 50, events.count)]) }
                )

                // Nothing indexed yet.
                try await agent.ingest(Array(batches.prefix(6)), into: store)
                _ = try Self.compare("nothing indexed", store: store, events: first, rules: rules)
                // Caught up.
                try await store.drainFullTextIndex()
                let caughtUp = try Self.compare("caught up", store: store, events: first, rules: rules)
                let shared = try Self.compareSharedPasses("caught up", store: store, events: first, rules: rules)
                #expect(shared > rules.count, "most rules answered by shared passes, index current: \(shared)")
                // A rule matching more than the cap is handed back to run alone, never cut short.
                let capped = try Self.compareSharedPasses(
                    "caught up, cap 5",
                    store: store,
                    events: first,
                    rules: rules,
                    maxMatches: 5
                )
                #expect(capped < shared, "\(capped) of \(shared)")
                // Trailing: the last 100 events stored after the index caught up.
                try await agent.ingest(Array(batches.dropFirst(6)), into: store)
                _ = try Self.compare("trailing", store: store, events: events, rules: rules)
                // Shared passes take the candidates the index found and every event past its watermark.
                _ = try Self.compareSharedPasses("trailing", store: store, events: events, rules: rules)
                try await store.drainFullTextIndex()
                _ = try Self.compare("caught up again", store: store, events: events, rules: rules)
                #expect(caughtUp.matched > rules.count / 2, "most rules match: \(caughtUp.matched) of \(rules.count)")
                #expect(caughtUp.accelerated > rules.count / 5, "many use the full-text index: \(caughtUp.accelerated)")
            }

            // Missing: the index files deleted; a read-only open reads without them.
            let saved = FullTextLayout.paths(for: path).map { ($0, FileManager.default.contents(atPath: $0)) }
            for (file, _) in saved { try? FileManager.default.removeItem(atPath: file) }
            let withoutIndex = try SQLiteStore(readOnlyPath: path, onDamagedIndex: .leaveOut)
            _ = try Self.compare("index missing", store: withoutIndex, events: events, rules: rules)
            _ = try Self.compareSharedPasses("index missing", store: withoutIndex, events: events, rules: rules)
            // Damaged: one index file overwritten with garbage, left out of the open.
            for (file, contents) in saved {
                if let contents { FileManager.default.createFile(atPath: file, contents: contents) }
            }
            if let (file, _) = saved.first {
                FileManager.default.createFile(atPath: file, contents: Data(repeating: 0x5A, count: 8192))
            }
            let damaged = try SQLiteStore(readOnlyPath: path, onDamagedIndex: .leaveOut)
            _ = try Self.compare("index damaged", store: damaged, events: events, rules: rules)
        }
    }

    /// Keywords and `contains` on the line search the whole line: a NUL byte in it (SQLite's `LIKE` stops there)
    /// does not hide what follows, alone or in a list, with or without a `*`. (A parsed field's value is read through
    /// SQLite's `json_each`, which ends a string at an escaped NUL: that is not covered.)
    @Test func aKeywordAfterANulByteIsFound() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-nul")
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let lines = ["login ok\u{0}; rm -rf /var/log", "rm -rf /var/log", "nothing to see"]
        let events = lines.enumerated().map { index, line in
            Event(
                timeNanos: Int64(index),
                observedNanos: 0,
                host: "h",
                source: "s",
                line: Array(line.utf8),
                fields: [Event.Field("command", line)]
            )
        }
        try await agent.ingest(try agent.chain([events]), into: store)
        for rule: SigmaExpression in [
            .keyword("RM -RF"), .any([.keyword("rm -rf"), .keyword("shred")]), .keyword("rm*/var/log"),
            .any([.keyword("no such"), .keyword("rm*var")]),
            .match(SigmaFieldMatch(field: "message", modifier: .contains, value: .text("rm -rf"))),
        ] {
            let found = try Self.storeIDs(store, rule)
            #expect(found.count == 2, "\(rule): \(found)")
            let expected = events.filter { SigmaEvaluator.matches(rule, StoredEvent(event: $0)) }.count
            #expect(expected == 2, "the reference evaluator agrees: \(rule)")
        }
    }

    /// The cases the random rules are built to meet, each by name.
    @Test func substringsCaseAndNonASCIILettersMatchAsSigmaSays() {
        let event = StoredEvent(
            event: Event(
                timeNanos: 0,
                observedNanos: 0,
                host: "h",
                source: "s",
                line: Array("User MChen: reexport of CAFÉ data, ΩΜΈΓΑ".utf8),
                fields: [Event.Field("event", "a"), Event.Field("event", "Bulk_Export")]
            )
        )
        #expect(SigmaEvaluator.matches(.keyword("export"), event), "inside a word")
        #expect(SigmaEvaluator.matches(.keyword("café"), event), "non-ASCII case")
        #expect(SigmaEvaluator.matches(.keyword("ωμέγα"), event))
        #expect(SigmaEvaluator.matches(.keyword("mchen: re"), event), "spanning words")
        #expect(!SigmaEvaluator.matches(.keyword("exports"), event))
        #expect(
            SigmaEvaluator.matches(
                .match(SigmaFieldMatch(field: "event", modifier: .equals, value: .text("bulk_export"))),
                event
            ),
            "any value of a repeated field"
        )
        #expect(
            SigmaEvaluator.matches(
                .match(SigmaFieldMatch(field: "event", modifier: .equals, value: .text("b?lk*"))),
                event
            )
        )
        #expect(
            SigmaEvaluator.matches(.match(SigmaFieldMatch(field: "missing", modifier: .equals, value: .null)), event)
        )
        #expect(
            !SigmaEvaluator.matches(
                .match(SigmaFieldMatch(field: "missing", modifier: .contains, value: .text("a"))),
                event
            )
        )
    }
}

import FlightlogAgent
import FlightlogEvidence
import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogSigma
import FlightlogStore
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// The investigator's answers from both stores on the same evidence: real logs published by others (Loghub's
/// OpenSSH, Linux and Apache samples, Tests/Fixtures/loghub/README.md) parsed by the agent's own parser, stored in
/// an SQLite file and in PostgreSQL, then asked the same `query` (`--match` in FTS5 syntax, `--where`, `--around`,
/// column filters, limits, both orders and clocks), `timeline`, `stats` and `hunt` (the starter rule pack and
/// SigmaHQ-style rules for these logs). The SQLite store is the reference; PostgreSQL is read through
/// ``PostgresEventReader``, the reader the commands use.
@Suite("Both stores, the same answers")
struct StoreDifferentialTests {
    /// The first 1,000 lines of each Loghub sample as one agent's file, 100 lines a batch.
    static func chains() throws -> [(TestAgent, [SignedBatch])] {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var out: [(TestAgent, [SignedBatch])] = []
        for (index, name) in ["OpenSSH_2k.log", "Linux_2k.log", "Apache_2k.log"].enumerated() {
            let text = try Data(contentsOf: RepositoryFiles.fixtures.appendingPathComponent("loghub/" + name))
                .split(separator: UInt8(ascii: "\n")).prefix(1_000)
            let observed = 1_500_000_000_000_000_000 + Int64(index) * 1_000_000_000
            let events = text.map { line in
                parser.parse(Array(line), observedNanos: observed).event(
                    line: Array(line),
                    observedNanos: observed,
                    host: "ws-\(index)",
                    source: "/var/log/" + name
                )
            }
            let agent = TestAgent(name: "loghub-\(index)")
            out.append(
                (
                    agent,
                    try agent.chain(
                        stride(from: 0, to: events.count, by: 100).map {
                            Array(events[$0..<min($0 + 100, events.count)])
                        }
                    )
                )
            )
        }
        return out
    }

    /// Rules in the shapes SigmaHQ's `rules/linux` uses (keywords, `contains`, `startswith`, `endswith`, `re`,
    /// `|all`, `null`, `not`, `1 of`), written for these logs, plus the starter pack.
    static let rules: [String] = [
        "detection:\n  keywords:\n    - 'Failed password'\n    - 'POSSIBLE BREAK-IN'\n  condition: keywords",
        "detection:\n  sel:\n    user: root\n  condition: sel",
        "detection:\n  sel:\n    src_ip|startswith: '187.'\n  condition: sel",
        "detection:\n  sel:\n    program: sshd\n  filter:\n    user: null\n  condition: sel and not filter",
        "detection:\n  sel:\n    message|contains|all:\n      - 'authentication failure'\n      - 'rhost='\n  condition: sel",
        "detection:\n  sel:\n    message|re: 'invalid user [a-z]+ from'\n  condition: sel",
        "detection:\n  a:\n    message|endswith: '[preauth]'\n  b:\n    - 'Connection closed'\n  condition: 1 of them",
        "detection:\n  sel:\n    message|contains: 'ERROR'\n  condition: sel",
        "detection:\n  keywords:\n    - 'xyz-no-such-word'\n  condition: keywords",
    ]

    @Test func realLogsGetTheSameAnswersFromBothStores() async throws {
        let database = try await PostgresTestDatabase.make()
        let directory = try TempDirectory()
        defer { directory.cleanup() }
        let postgres = try await PostgresStore.open(database.location, node: "node-a")
        let sqlite = try Storage.open(path: directory.file("reference.db"))
        let chains = try Self.chains()
        for (agent, batches) in chains {
            let ids = [
                try await postgres.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1).id,
                try await sqlite.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1).id,
            ]
            for (store, agentID) in zip([postgres as any EvidenceStore, sqlite], ids) {
                // Batch 5 of each chain never arrives: a gap the timeline shows.
                for (index, batch) in batches.enumerated() where index != 4 {
                    let item = IngestItem(
                        agentID: agentID,
                        batch: batch,
                        layout: try batch.decodeLayout(),
                        receivedNanos: 1_800_000_000_000_000_000 + Int64(index)
                    )
                    _ = try await store.ingest([item])
                }
            }
        }
        try await sqlite.drainFullTextIndex()
        let reader = PostgresEventReader(postgres)
        let rules =
            Self.rules.enumerated().map {
                SigmaRule(file: "r\($0.offset).yml", yaml: "title: r\($0.offset)\n" + $0.element)
            }
            + (try SigmaRule.load(paths: [RepositoryFiles.rulePack])).map { SigmaPipeline.builtIn.apply(to: $0) }
        let answers = try await Blocking.onOwnThread {
            try Self.answers(sqlite, rules: rules) + [("", "")] + (try Self.answers(reader, rules: rules))
        }
        let split = try #require(answers.firstIndex { $0.0.isEmpty })
        let reference = answers[..<split]
        let candidate = answers[(split + 1)...]
        #expect(reference.count == candidate.count)
        for (expected, found) in zip(reference, candidate) {
            #expect(found.1 == expected.1, "\(expected.0)")
        }
        // The reference found something for most questions (the starter pack's rules are for CRM and help-desk logs,
        // which these are not): the comparison is not between two empty answers.
        let found = reference.filter { !$0.1.hasSuffix("#0") && !$0.1.hasSuffix(" 0") && !$0.0.hasSuffix(" count") }
        #expect(found.count >= 25, "\(found.map(\.0))")
        // The token filters narrow: a phrase of the Apache sample's lines is read from its 9 batches alone, a word of
        // none from no batch, a prefix from all 27.
        var rare = EventQuery()
        rare.match = "\"mod_jk child\""
        #expect(try await postgres.candidateBatches(rare) == 9)
        rare.match = "zzqqxv"
        #expect(try await postgres.candidateBatches(rare) == 0)
        rare.match = "x*"
        #expect(try await postgres.candidateBatches(rare) == 27)
        postgres.close()
        await database.drop()
    }

    /// Each question and its answer, in words, from `store`.
    static func answers(_ store: any EventReading, rules: [SigmaRule]) throws -> [(String, String)] {
        var out: [(String, String)] = []
        // Debug builds decode PostgreSQL rows slowly (~80 µs each, NIO's generics unspecialised): each question reads
        // the few thousand events once, and only some are counted too.
        @discardableResult
        func ids(_ label: String, _ query: EventQuery, count: Bool = false) throws -> [Int64] {
            var found: [String] = []
            var ids: [Int64] = []
            let seen = try store.forEachEvent(query) { event in
                found.append("\(event.id)@\(event.agent)/\(event.sequence)/\(event.index)")
                ids.append(event.id)
                return true
            }
            out.append((label, "\(label): \(found)#\(seen)"))
            if count { out.append((label + " count", "\(label) count \(try store.countEvents(query))")) }
            return ids
        }
        var query = EventQuery()
        try ids("all", query, count: true)
        for expression in [
            "Failed password", "\"Failed password\"", "invalid NOT user", "authentic*", "pam_unix", "sshd OR kernel",
            "error AND (client OR mod_jk)", "NEAR(session opened, 3)", "Bye",
        ] {
            query = EventQuery()
            query.match = expression
            try ids("match \(expression)", query, count: expression == "Bye")
        }
        for conditions in [["user=root"], ["src_ip~^(187|112)\\."], ["user!=root", "program=sshd"], ["pid=24200"]] {
            query = EventQuery()
            query.conditions = try conditions.map { try FieldCondition(parsing: $0) }
            try ids("where \(conditions)", query, count: conditions.count == 2)
        }
        query = EventQuery()
        query.program = "sshd"
        query.order = .desc
        query.limit = 7
        try ids("program desc limit", query, count: true)
        query = EventQuery()
        query.match = "Failed"
        query.user = "root"
        query.limit = 5
        query.clock = .received
        try ids("match user limit received", query, count: true)
        query = EventQuery()
        query.aroundEventID = 300
        query.aroundWindowNanos = 60_000_000_000
        try ids("around", query)
        query = EventQuery()
        query.host = "ws-1"
        query.sinceNanos = 1_499_000_000_000_000_000
        try ids("host since", query)
        // Timeline context, stats.
        let context = try store.timelineContext(EventQuery(), silenceNanos: 3_600_000_000_000)
        out.append(
            (
                "timeline",
                "\(context.agents.map(\.name)) \(context.markers.map { "\($0.kind) \($0.timeNanos) \($0.agent) \($0.detail)" })"
            )
        )
        for key in StatsKey.allCases {
            var stats = EventQuery()
            stats.sinceNanos = 1_400_000_000_000_000_000
            if key == .user { stats.match = "session" }
            let report = try store.stats(
                stats,
                by: key,
                bucketNanos: 86_400_000_000_000,
                workHours: WorkHours(startHour: 7, endHour: 19) { _ in 0 }
            )
            out.append(
                (
                    "stats \(key)",
                    "\(report.total) \(report.buckets) \(report.notes.map { "\($0.kind) \($0.timeNanos) \($0.detail)" }.sorted())"
                )
            )
        }
        // Hunt: each rule alone, then all in shared passes.
        var conditions: [TranslatedCondition] = []
        var alone: [[Int64]] = []
        for rule in rules {
            guard let detection = rule.detection, rule.isRunnable else { continue }
            let condition = SigmaSQLCompiler.compile(detection)
            conditions.append(condition)
            query = EventQuery()
            query.rule = condition
            alone.append(try ids("rule \(rule.title)", query).sorted())
        }
        // A store may leave a rule out of the shared passes (nil: it runs alone); the ids of one it keeps are the
        // rule's own.
        let shared = try store.matchingEventIDs(conditions, EventQuery(), maxMatches: 1_000)
        for (index, ids) in shared.enumerated() {
            out.append(
                (
                    "shared \(index)",
                    ids.map { $0.sorted() == alone[index] ? "agrees" : "differs: \($0.count)" } ?? "agrees"
                )
            )
        }
        return out
    }
}

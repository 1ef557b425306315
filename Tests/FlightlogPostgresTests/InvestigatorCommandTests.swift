import FlightlogEvidence
import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// The investigator's commands as processes, on an SQLite store and on its PostgreSQL copy (`copy-store`): `query`
/// (`--match`, `--where`, `--around`, every format), `timeline`, `stats` and `hunt` print the same, byte for byte,
/// exit with the same status, and each run on `--store` is in the PostgreSQL store's audit trail.
@Suite("PostgreSQL: the investigator's commands")
struct InvestigatorCommandTests {
    @Test func everyCommandPrintsTheSameOnBothStores() async throws {
        let database = try await PostgresTestDatabase.make()
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let path = scratch.file("flightlog.db")
        let sqlite = try Storage.open(path: path)
        for (agent, batches) in try StoreDifferentialTests.chains() {
            try await sqlite.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            // Batch 3 arrives last: a gap, then a late batch, in the timeline.
            try await agent.ingest(batches.enumerated().filter { $0.offset != 2 }.map(\.element), into: sqlite)
            try await agent.ingest([batches[2]], into: sqlite)
        }
        try await sqlite.drainFullTextIndex()
        let url = database.location.description
        let flightlog = try Executables.path("flightlog")
        let copy = try await Subprocess.runAsync(flightlog, ["copy-store", "--from", path, "--to", url])
        #expect(copy.status == 0, "\(copy.stderr)")
        let rules = scratch.file("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        for (index, rule) in StoreDifferentialTests.rules.enumerated() {
            try Data(("title: rule \(index)\nlevel: high\n" + rule + "\n").utf8).write(
                to: URL(fileURLWithPath: rules + "/r\(index).yml")
            )
        }
        // Correlations (Sigma's correlation format): repeated failures from one address, and an invalid user
        // followed by a failed password from the same address.
        let correlations = [
            "title: failed\nname: failed\ndetection:\n  k:\n    - 'Failed password'\n  condition: k",
            "title: invalid\nname: invalid\ndetection:\n  k:\n    - 'Invalid user'\n  condition: k",
            "title: many failures\ncorrelation:\n  type: event_count\n  rules:\n    - failed\n  group-by:\n    - src_ip\n"
                + "  timespan: 10m\n  condition:\n    gte: 5",
            "title: invalid then failed\ncorrelation:\n  type: temporal_ordered\n  rules:\n    - invalid\n    - failed\n"
                + "  group-by:\n    - src_ip\n  timespan: 1m",
        ]
        for (index, rule) in correlations.enumerated() {
            try Data((rule + "\n").utf8).write(to: URL(fileURLWithPath: rules + "/c\(index).yml"))
        }
        let commands: [[String]] = [
            ["query", "--match", "Failed password", "--limit", "20"],
            ["query", "--match", "\"session opened\" OR Bye", "--format", "jsonl"],
            ["query", "--where", "user=root", "--where", "src_ip~^(187|112)\\.", "--format", "csv"],
            ["query", "--around", "120", "--window", "30s", "--order", "desc"],
            ["query", "--program", "sshd", "--count"],
            ["query", "--match", "xyz-no-such-word"],
            ["query", "--match", "AND AND"],
            ["timeline", "--host", "ws-0", "--silence", "1h", "--limit", "40"],
            ["timeline", "--match", "authentication failure", "--format", "jsonl"],
            ["stats", "--by", "user", "--bucket", "1d", "--since", "2000-01-01T00:00:00Z"],
            ["stats", "--by", "host", "--match", "error", "--format", "jsonl"],
            ["hunt", "--rules", rules, "--limit", "3"],
            ["hunt", "--rules", rules, "--format", "jsonl"],
            ["hunt", "--rules", rules, "--rules", RepositoryFiles.rulePack, "--format", "jsonl", "--matched-only"],
        ]
        for command in commands {
            let onSQLite = try await Subprocess.runAsync(flightlog, command + ["--db", path])
            let onPostgres = try await Subprocess.runAsync(flightlog, command + ["--store", url])
            #expect(onPostgres.status == onSQLite.status, "\(command): \(onPostgres.stderr)")
            #expect(onPostgres.stdout == onSQLite.stdout, "\(command)")
            #expect(!onSQLite.stdout.isEmpty || onSQLite.status != 0, "\(command)")
        }
        // export: the same events and signed batches in both bundles, each proved against a checkpoint signed now with
        // the site key on its own store, and each verifying offline.
        let siteKey = scratch.file("site.key")
        _ = try AggregatorKeyFile.loadOrCreate(siteKey)
        var bundles: [String] = []
        for (name, storeArguments) in [("sqlite", ["--db", path]), ("postgres", ["--store", url])] {
            let bundle = scratch.file("bundle-\(name)")
            let export = try await Subprocess.runAsync(
                flightlog,
                [
                    "export", "--match", "Failed password", "--out", bundle, "--aggregator-key", siteKey, "--rules",
                    rules,
                ]
                    + storeArguments
            )
            #expect(export.status == 0, "\(name): \(export.stdout)\(export.stderr)")
            #expect(export.stdout.contains("(signed now)"), "\(name): \(export.stdout)")
            let verify = try await Subprocess.runAsync(
                flightlog,
                ["verify", "--bundle", bundle, "--aggregator-key", siteKey + ".pub"]
            )
            #expect(verify.status == 0, "\(name): \(verify.stdout)\(verify.stderr)")
            bundles.append(bundle)
        }
        let files = { (bundle: String) in
            (try? FileManager.default.contentsOfDirectory(atPath: bundle + "/batches"))?.sorted() ?? []
        }
        #expect(!files(bundles[0]).isEmpty && files(bundles[0]) == files(bundles[1]))
        for file in ["events.jsonl"] + files(bundles[0]).map({ "batches/" + $0 }) {
            #expect(
                FileManager.default.contents(atPath: bundles[0] + "/" + file)
                    == FileManager.default.contents(atPath: bundles[1] + "/" + file),
                "\(file)"
            )
        }
        let reportAlone = try await Subprocess.runAsync(
            flightlog,
            ["export", "--store", url, "--html", scratch.file("alone.html"), "--host", "ws-0"]
        )
        #expect(reportAlone.status == 0, "\(reportAlone.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.file("alone.html")))
        let keyless = try await Subprocess.runAsync(flightlog, ["export", "--store", url, "--out", scratch.file("x")])
        #expect(keyless.status != 0 && keyless.stderr.contains("--store needs --aggregator-key"), "\(keyless.stderr)")

        // What a bad expression says is FTS5's own, on both.
        let bad = try await Subprocess.runAsync(flightlog, ["query", "--match", "AND AND", "--store", url])
        #expect(bad.status == 2 && bad.stderr.contains("syntax error"), "\(bad.stderr)")
        let postgres = try await PostgresStore.open(database.location, node: "checker", create: false)
        defer { postgres.close() }
        let commandsAudited = try await postgres.auditEntries().map(\.command)
        #expect(commandsAudited.filter { $0 == "query" }.count == 8, "\(commandsAudited)")
        #expect(commandsAudited.filter { $0 == "export" }.count == 2, "\(commandsAudited)")
        #expect(commandsAudited.contains("hunt") && commandsAudited.contains("stats"), "\(commandsAudited)")
        // The correlations found something to compare.
        let hunt = try await Subprocess.runAsync(
            flightlog,
            ["hunt", "--rules", rules, "--format", "jsonl", "--store", url]
        )
        #expect(hunt.stdout.contains("\"type\":\"hit\",\"rule\":\"many failures\""), "\(hunt.stdout.prefix(2_000))")
        #expect(
            hunt.stdout.contains("\"type\":\"hit\",\"rule\":\"invalid then failed\""),
            "\(hunt.stdout.prefix(2_000))"
        )
        await database.drop()
    }
}

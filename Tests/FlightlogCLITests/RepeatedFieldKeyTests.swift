import FlightlogEvidence
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// Events whose parsed fields repeat a key (PROTOCOL.md §6): an sshd line naming two addresses, a JSON line with a
/// repeated "group". Every JSON output keeps every value (issue: lossy JSON).
struct RepeatedKeyStore {
    let directory: TempDirectory
    var database: String { self.directory.file("flightlog.db") }

    static func make() async throws -> RepeatedKeyStore {
        let store = RepeatedKeyStore(directory: try TempDirectory())
        let agent = TestAgent(name: "cc-ws-702")
        let chain = try agent.chain([
            [
                try agent.event(
                    "2026-11-24T10:09:12Z",
                    "Nov 24 10:09:12 cc-ws-702 sshd[4121]: Accepted password for mchen from 203.0.113.77 via 10.0.0.5",
                    [
                        ("program", "sshd"), ("user", "mchen"), ("src_ip", "203.0.113.77"), ("src_ip", "10.0.0.5"),
                    ]
                ),
                try agent.event(
                    "2026-11-24T10:10:00Z",
                    #"{"event":"login","user":"mchen","group":"sales","group":"export"}"#,
                    [("program", "crm-audit"), ("user", "mchen"), ("group", "sales"), ("group", "export")]
                ),
            ]
        ])
        let sqlite = try Storage.open(path: store.database)
        try await sqlite.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        try await agent.ingest(chain, into: sqlite)
        let signer = try AggregatorKeyFile.loadOrCreate(AggregatorKeyFile.defaultPath(database: store.database))
        _ = try await sqlite.makeCheckpoint(signer: signer, atNanos: nowNanos())
        try await sqlite.drainFullTextIndex()
        return store
    }

    func cli(_ subcommand: String, _ arguments: String...) async throws -> FlightlogCLI.Result {
        try await FlightlogCLI.run([subcommand, "--db", self.database] + arguments)
    }
}

@Suite("Repeated field keys in every JSON output")
struct RepeatedFieldKeyTests {
    /// The `fields` of each JSONL object that has them, in order.
    static func fields(_ result: FlightlogCLI.Result) throws -> [[String: Any]] {
        try result.lines.compactMap { line in try jsonObject(line)["fields"] as? [String: Any] }
    }

    static func expectBothValues(_ fields: [[String: Any]], _ what: String) {
        #expect(fields.count == 2, "\(what): \(fields)")
        #expect(fields.first?["source.ip"] as? [String] == ["203.0.113.77", "10.0.0.5"], "\(what): \(fields)")
        #expect(fields.first?["user.name"] as? String == "mchen", "\(what)")
        #expect(fields.last?["group.name"] as? [String] == ["sales", "export"], "\(what): \(fields)")
        #expect(fields.first?["process.name"] as? String == "sshd", "\(what)")
    }

    @Test func queryTimesketchTimelineAndCSVKeepEveryValue() async throws {
        let store = try await RepeatedKeyStore.make()
        defer { store.directory.cleanup() }
        for format in ["jsonl", "timesketch"] {
            let result = try await store.cli("query", "--format", format, "--order", "asc")
            #expect(result.status == 0, "\(result.stderr)")
            Self.expectBothValues(try Self.fields(result), "query --format \(format)")
        }
        // The same through the slow path (a zone makes every row a record first).
        let zoned = try await store.cli("query", "--format", "jsonl", "--order", "asc", "--tz", "Europe/Paris")
        Self.expectBothValues(try Self.fields(zoned), "query --tz")
        let timeline = try await store.cli("timeline", "--format", "jsonl")
        let events = try timeline.lines.map(jsonObject).compactMap { $0["event"] as? [String: Any] }
        Self.expectBothValues(events.compactMap { $0["fields"] as? [String: Any] }, "timeline --format jsonl")
        let csv = try await store.cli("query", "--format", "csv", "--order", "asc")
        #expect(
            csv.stdout.contains(
                #""{""process.name"":""sshd"",""user.name"":""mchen"",""source.ip"":[""203.0.113.77"",""10.0.0.5""]}""#
            ),
            "\(csv.stdout)"
        )
    }

    @Test func whereMatchesAnyValueOfARepeatedKey() async throws {
        let store = try await RepeatedKeyStore.make()
        defer { store.directory.cleanup() }
        for value in ["203.0.113.77", "10.0.0.5"] {
            let result = try await store.cli("query", "--where", "src_ip=\(value)", "--count")
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(value): \(result.stdout)")
        }
        let none = try await store.cli("query", "--where", "src_ip!=10.0.0.5", "--count")
        #expect(none.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "the crm line only: \(none.stdout)")
        let regex = try await store.cli("query", "--where", "group~^exp", "--count")
        #expect(regex.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(regex.stdout)")
    }

    @Test func bundlesGroupThemAndStillVerifyAsDoBundlesOfTheFormatBefore() async throws {
        let store = try await RepeatedKeyStore.make()
        defer { store.directory.cleanup() }
        let out = store.directory.file("bundle")
        let export = try await store.cli("export", "--user", "mchen", "--out", out)
        #expect(export.status == 0, "\(export.stderr)")
        let lines = String(decoding: try BundleFiles.read(out, "events.jsonl"), as: UTF8.self)
        Self.expectBothValues(
            try lines.split(separator: "\n").map { try jsonObject(String($0))["fields"] as? [String: Any] ?? [:] },
            "bundle"
        )
        let verify = try await FlightlogCLI.run(["verify", "--bundle", out])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // Written by earlier releases (format 2, events.jsonl with the keys repeated; format 3, the stored names):
        // each still verifies, and an event edited in it is still caught.
        for (name, edit) in [
            ("bundle-2-repeated-keys", (#""src_ip":"10.0.0.5""#, #""src_ip":"10.0.0.6""#)),
            (
                "bundle-3-stored-names",
                (#""src_ip":["203.0.113.77","10.0.0.5"]"#, #""src_ip":["203.0.113.77","10.0.0.6"]"#)
            ),
            ("bundle-3-stored-names", (#""user":"mchen""#, #""user":"tpatel""#)),
        ] {
            let legacy = RepositoryFiles.fixtures.appendingPathComponent(name).path
            let old = try await FlightlogCLI.run(["verify", "--bundle", legacy])
            #expect(old.status == 0, "\(name): \(old.stdout)\(old.stderr)")
            let copy = store.directory.file("legacy-" + UUID().uuidString)
            try FileManager.default.copyItem(atPath: legacy, toPath: copy)
            let text = String(decoding: try BundleFiles.read(copy, "events.jsonl"), as: UTF8.self)
            let edited = text.replacingOccurrences(of: edit.0, with: edit.1)
            #expect(edited != text, "\(name): \(edit.0)")
            try BundleFiles.replace(copy, "events.jsonl", with: Data(edited.utf8))
            let caught = try await FlightlogCLI.run(["verify", "--bundle", copy])
            #expect(caught.status == 1, "\(name): \(caught.stdout)")
            #expect(caught.stdout.contains("differs from event 0 of the signed batch"), "\(name): \(caught.stdout)")
        }
    }

    /// A format-4 bundle is checked with the ECS names: relabelling a field back to its stored name is caught.
    @Test func aCurrentBundleIsCheckedUnderTheECSNames() async throws {
        let store = try await RepeatedKeyStore.make()
        defer { store.directory.cleanup() }
        let out = store.directory.file("bundle")
        #expect(try await store.cli("export", "--user", "mchen", "--out", out).status == 0)
        let text = String(decoding: try BundleFiles.read(out, "events.jsonl"), as: UTF8.self)
        #expect(text.contains(#""user.name":"mchen""#), "\(text)")
        let relabelled = text.replacingOccurrences(
            of: #""process.name":"sshd","user.name""#,
            with: #""program":"sshd","user""#
        )
        #expect(relabelled != text)
        try BundleFiles.replace(out, "events.jsonl", with: Data(relabelled.utf8))
        let caught = try await FlightlogCLI.run(["verify", "--bundle", out])
        #expect(caught.status == 1, "\(caught.stdout)")
    }
}

import Crypto
import FlightlogEvidence
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogStore

/// A store holding what an enrolled agent may legally send at the ends of every range (PROTOCOL.md §1: any i64 time,
/// any u64 epoch, sequences from 1 to 2^64 − 1, an agent clock of −2^63), stored as the server stores them: the
/// handshake's skew is −2^63, where the server saturates that clock (`ExtremeValueSessionTests` holds it to that).
///
/// Epoch 2^64 − 1. Batches: 2^63 (a gap from 1; events at −2^63 and 2^63 − 1), 2^63 + 1 (extends; an event at
/// −2^63 + 1 and one at 2026-11-24T10:00Z), 5 (late, in the gap; 2026-11-24T10:05Z) and 2^64 − 1 (a gap after
/// 2^63 + 1; 2026-11-24T10:10Z).
struct ExtremeStore {
    let directory: TempDirectory
    var database: String { self.directory.file("flightlog.db") }
    static let agent = TestAgent(name: "ws-edge", epoch: .max, clockOffsetNanos: .min)
    static let sequences: [UInt64] = [1 << 63, 1 << 63 + 1, 5, .max]

    static func make() async throws -> ExtremeStore {
        let store = ExtremeStore(directory: try TempDirectory())
        let agent = Self.agent
        func event(_ time: Int64, _ line: String) -> Event {
            Event(
                timeNanos: time,
                observedNanos: time,
                flags: .timeFromLine,
                host: agent.name,
                source: "/var/log/auth.log",
                line: Array(line.utf8),
                fields: [Event.Field("program", "sshd"), Event.Field("user", "mchen")]
            )
        }
        let tenOClock = try TimeExpression.parseInstant("2026-11-24T10:00:00Z", now: 0)
        let first = try agent.batch(
            sequence: 1 << 63,
            previous: .zero,
            events: [event(.min, "edge earliest"), event(.max, "edge latest")]
        )
        let second = try agent.batch(
            sequence: 1 << 63 + 1,
            previous: first.hash,
            events: [event(.min + 1, "edge second earliest"), event(tenOClock, "edge ten")]
        )
        let late = try agent.batch(
            sequence: 5,
            previous: .zero,
            events: [event(tenOClock + 300_000_000_000, "edge late")]
        )
        let last = try agent.batch(
            sequence: .max,
            previous: .zero,
            events: [event(tenOClock + 600_000_000_000, "edge last")]
        )
        let sqlite = try SQLiteStore(path: store.database)
        try await sqlite.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        try await agent.ingest([first, second, late, last], into: sqlite)
        let signer = try AggregatorKeyFile.loadOrCreate(AggregatorKeyFile.defaultPath(database: store.database))
        _ = try await sqlite.makeCheckpoint(signer: signer, atNanos: nowNanos())
        try await sqlite.drainFullTextIndex()
        return store
    }

    func cli(_ subcommand: String, _ arguments: String...) async throws -> FlightlogCLI.Result {
        try await FlightlogCLI.run([subcommand, "--db", self.database] + arguments)
    }

    /// The id of the event whose line is `line`.
    func id(of line: String) async throws -> Int64 {
        let result = try await self.cli("query", "--match", "\"\(line)\"", "--format", "jsonl")
        for text in result.lines where text.contains("\"\(line)\"") {
            if let id = try jsonObject(text)["id"] as? NSNumber { return id.int64Value }
        }
        throw TestFailure("no event '\(line)': \(result.stdout)\(result.stderr)")
    }
}

actor SharedExtremeStore {
    static let shared = SharedExtremeStore()
    private var store: ExtremeStore?

    func get() async throws -> ExtremeStore {
        if let store { return store }
        let made = try await ExtremeStore.make()
        self.store = made
        return made
    }
}

/// Every investigator command on values at the ends of their ranges (issue: arithmetic audit): each answers, none
/// stops the process. A trap shows as a status above 128 (a signal), never 0, 1 or 2.
@Suite("Investigator commands at the ends of every range")
struct ExtremeValueCommandTests {
    static func expectAnswered(_ result: FlightlogCLI.Result, _ what: String, allowed: Set<Int32> = [0]) {
        #expect(allowed.contains(result.status), "\(what): status \(result.status)\n\(result.stderr)")
    }

    @Test func queryTimelineAndStatsAnswerForEventTimesAtTheEndsOfI64InEveryZoneAndFormat() async throws {
        let store = try await SharedExtremeStore.shared.get()
        for zone in ["UTC", "Europe/Paris", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12"] {
            for format in ["table", "jsonl", "csv", "timesketch"] {
                let result = try await store.cli("query", "--tz", zone, "--format", format)
                Self.expectAnswered(result, "query --tz \(zone) --format \(format)")
                #expect(result.stdout.contains("edge latest"), "\(zone) \(format)")
            }
            Self.expectAnswered(try await store.cli("timeline", "--tz", zone), "timeline --tz \(zone)")
            Self.expectAnswered(try await store.cli("stats", "--tz", zone), "stats --tz \(zone)")
        }
        // 2^63 − 1 ns is 2262-04-11T23:47:16.854775807Z; at +01:00 that is past the range of an i64 of ns.
        let east = try await store.cli("query", "--tz", "Etc/GMT-1", "--match", "\"edge latest\"", "--format", "jsonl")
        #expect(east.stdout.contains("2262-04-12T00:47:16.854775807+01:00"), "\(east.stdout)")
        let west = try await store.cli(
            "query",
            "--tz",
            "Etc/GMT+5",
            "--match",
            "\"edge earliest\"",
            "--format",
            "jsonl"
        )
        #expect(west.stdout.contains("1677-09-20T19:12:43.145224192-05:00"), "\(west.stdout)")
    }

    @Test func timelineShowsSilenceAcrossTheWholeRangeAndASkewOfMinusTwoToThe63() async throws {
        let store = try await SharedExtremeStore.shared.get()
        let result = try await store.cli("timeline")
        Self.expectAnswered(result, "timeline")
        #expect(result.stdout.contains("# clock: ws-edge: agent clock"), "\(result.stdout)")
        #expect(result.stdout.contains("behind the aggregator"), "\(result.stdout)")
        let jsonl = try await store.cli("timeline", "--format", "jsonl", "--since", "2026-11-24T09:00Z")
        Self.expectAnswered(jsonl, "timeline --format jsonl --since")
    }

    @Test func aroundAnEventAtEitherEndAnswersWithAnyWindow() async throws {
        let store = try await SharedExtremeStore.shared.get()
        for line in ["edge earliest", "edge latest"] {
            let id = try await store.id(of: line)
            for window in ["10m", "15250w", "9223372036"] {
                let result = try await store.cli("query", "--around", "\(id)", "--window", window, "--format", "jsonl")
                Self.expectAnswered(result, "query --around \(line) --window \(window)")
                #expect(result.stdout.contains(line), "\(line) \(window): \(result.stdout)")
            }
        }
    }

    @Test func timesAndDurationsPastTheRangeOfI64AreRefusedWithAMessage() async throws {
        let store = try await SharedExtremeStore.shared.get()
        for arguments in [
            ["query", "--since", "3000-01-01"], ["query", "--until", "1600-01-01T00:00Z"],
            ["timeline", "--since", "2263-01-01"], ["stats", "--since", "9999-12-31T23:59:59Z"],
            ["query", "--around", "1", "--window", "9223372037"], ["timeline", "--silence", "99999999999999"],
            ["verify", "--since", "3000-01-01"], ["verify", "--since", "99999999999d"],
        ] {
            let result = try await FlightlogCLI.run([arguments[0], "--db", store.database] + arguments.dropFirst())
            Self.expectAnswered(result, arguments.joined(separator: " "), allowed: [2, 64])
            #expect(
                result.stderr.contains("1678 and 2261") || result.stderr.contains("292 years")
                    || result.stderr.contains("--since"),
                "\(arguments): \(result.stderr)"
            )
        }
        // The edges themselves are times an i64 holds.
        let edge = try await store.cli(
            "query",
            "--since",
            "1677-09-21T00:12:43.145224192Z",
            "--until",
            "2262-04-11T23:47:16.854775807Z"
        )
        Self.expectAnswered(edge, "query at the edges")
    }

    @Test func aNegativeLimitIsRefused() async throws {
        let store = try await SharedExtremeStore.shared.get()
        let rules = store.directory.file("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try """
        title: two logins
        name: edge_login
        logsource: {product: linux}
        detection:
          selection: {program: sshd}
          condition: selection
        ---
        title: repeated
        correlation:
          type: event_count
          rules: [edge_login]
          group-by: [host]
          timespan: 1h
          condition: {gte: 1}
        """.write(toFile: rules + "/edge.yml", atomically: true, encoding: .utf8)
        for command in ["hunt", "timeline", "query"] {
            let extra = command == "hunt" ? ["--rules", rules] : []
            let result = try await FlightlogCLI.run([command, "--db", store.database, "--limit=-1"] + extra)
            #expect([2, 64].contains(result.status), "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("--limit must be 0 or more"), "\(command): \(result.stderr)")
        }
    }

    /// Epochs and sequences of 2^63 and above (stored as negative SQLite integers) print as the unsigned numbers
    /// they are in every command and format, sort in chain order, and give exactly the gaps the chain has.
    @Test func epochsAndSequencesFrom2To63PrintUnsignedAndKeepTheirOrder() async throws {
        let store = try await SharedExtremeStore.shared.get()
        let epoch = "18446744073709551615"
        let sequences: Set<String> = ["9223372036854775808", "9223372036854775809", "5", "18446744073709551615"]
        for format in ["jsonl", "timesketch"] {
            let result = try await store.cli("query", "--format", format)
            #expect(result.status == 0, "\(result.stderr)")
            for line in result.lines {
                let batch = try #require(try jsonObject(line)["batch"] as? [String: Any])
                #expect((batch["epoch"] as? NSNumber)?.stringValue == epoch, "\(format): \(line)")
                #expect(sequences.contains((batch["seq"] as? NSNumber)?.stringValue ?? ""), "\(format): \(line)")
            }
            #expect(!result.stdout.contains("\"seq\":-"), "\(format)")
        }
        let csv = try await store.cli("query", "--format", "csv")
        #expect(csv.stdout.contains(",\(epoch),9223372036854775808,0"), "\(csv.stdout)")
        #expect(csv.stdout.contains(",\(epoch),18446744073709551615,0"), "\(csv.stdout)")
        for format in ["text", "jsonl"] {
            let timeline = try await store.cli("timeline", "--format", format)
            #expect(timeline.stdout.contains("batches 1…9223372036854775807 are missing from epoch \(epoch)"))
            #expect(timeline.stdout.contains("batches 9223372036854775810…18446744073709551614 are missing"))
        }
        let agents = try await store.cli("agents", "--format", "jsonl")
        let agent = try jsonObject(agents.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect((agent["epoch"] as? NSNumber)?.stringValue == epoch, "\(agents.stdout)")
        #expect((agent["last_sequence"] as? NSNumber)?.stringValue == "18446744073709551615", "\(agents.stdout)")
        #expect(try await store.cli("agents").stdout.contains("\(epoch)  18446744073709551615"))

        // verify finds the three gaps of this chain, unsigned, and nothing a signed order would invent.
        let verify = try await store.cli("verify", "--format", "json")
        #expect(verify.status == 1)
        let report = try #require(try jsonObject(verify.stdout)["report"] as? [String: Any])
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(findings.compactMap { $0["kind"] as? String } == ["gap", "gap", "gap"], "\(verify.stdout)")
        let details = Set(findings.compactMap { $0["detail"] as? String })
        #expect(details.contains("batches 1…4 of epoch \(epoch) are missing"), "\(details)")
        #expect(details.contains("batches 6…9223372036854775807 of epoch \(epoch) are missing"), "\(details)")
        #expect(details.contains("batches 9223372036854775810…18446744073709551614 of epoch \(epoch) are missing"))

        // Chain order: 5, then 2^63, 2^63 + 1, 2^64 − 1.
        let lines = try await SQLiteStore(readOnlyPath: store.database).lines(agentName: ExtremeStore.agent.name)
        #expect(
            lines.map { String(decoding: $0, as: UTF8.self) } == [
                "edge late", "edge earliest", "edge latest", "edge second earliest", "edge ten", "edge last",
            ]
        )

        // An evidence bundle carries them, names its files by them, and verifies.
        let out = store.directory.file("bundle-\(UUID().uuidString)")
        let export = try await store.cli("export", "--out", out)
        #expect(export.status == 0, "\(export.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/batches").sorted()
        #expect(files.contains("ws-edge-e\(epoch)-s18446744073709551615.flb"), "\(files)")
        #expect(files.contains("ws-edge-e\(epoch)-s9223372036854775808.flb"), "\(files)")
        let bundle = try await FlightlogCLI.run(["verify", "--bundle", out])
        #expect(bundle.status == 0, "\(bundle.stdout)\(bundle.stderr)")
    }
}

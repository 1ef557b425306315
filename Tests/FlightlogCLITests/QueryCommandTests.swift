import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@Suite("flightlog query, as a process, over a database built by the real server")
struct QueryCommandTests {
    private func messages(_ result: FlightlogCLI.Result) throws -> [String] {
        try result.lines.map { try jsonObject($0)["message"] as? String ?? "" }
    }

    @Test func findsEachIncidentStepInOrder() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli(
            "query",
            "--since",
            "2026-11-24T10:00Z",
            "--until",
            "2026-11-24T11:00Z",
            "--format",
            "jsonl"
        )
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try self.messages(result)
        let steps = [
            "password reset for user=mchen", "MFA device reset", "src_ip=203.0.113.77 device=new", "oauth_consent",
            "bulk_export", "anydesk",
        ]
        let positions = steps.map { step in lines.firstIndex { $0.contains(step) } }
        #expect(positions.allSatisfy { $0 != nil }, "missing a step in \(lines)")
        let found = positions.compactMap { $0 }
        #expect(found == found.sorted(), "steps out of order: \(lines)")
    }

    @Test(
        arguments: [
            (["--host", "cc-ws-611"], 4),
            (["--agent", "cc-ws-602"], 9),
            (["--user", "mchen"], 8),
            (["--program", "crm-audit"], 2),
            (["--source", "/var/log/crm/audit.jsonl"], 2),
            (["--ip", "203.0.113.77"], 3),
            (["--match", "\"data loader\""], 2),
            (["--match", "anydesk"], 1),
            (["--match", "INC AND 4711"], 2),
            (["--where", "action=login"], 3),
            (["--where", "action=login", "--where", "src_ip!=10.20.30.40"], 2),
            (["--where", "event~^(oauth|bulk)_"], 2),
            (["--where", "records=48210"], 1),
            (["--since", "2026-11-24", "--until", "2026-11-24T10:05:00Z"], 4),
            (["--since", "2026-11-24T10:00:00+01:00", "--until", "2026-11-24T09:30Z"], 2),
            (["--around", "4", "--window", "5m"], 2),
            (["--user", "mchen", "--limit", "2"], 2),
        ] as [([String], Int)]
    )
    func filter(arguments: [String], expected: Int) async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("query", arguments: arguments + ["--format", "jsonl"])
        #expect(result.lines.count == expected, "\(arguments): \(result.stdout) \(result.stderr)")
        #expect(result.status == (expected > 0 ? 0 : 1))
        let count = try await fixture.cli("query", arguments: arguments + ["--count"])
        if !arguments.contains("--limit") {
            #expect(count.stdout == "\(expected)\n", "\(arguments)")
        }
    }

    /// The full-text file removed (to be rebuilt by `serve`): `--match` says so, and other searches still work.
    @Test func aMissingFullTextIndexIsNamed() async throws {
        let fixture = try await IncidentFixture.make()
        defer { fixture.directory.cleanup() }
        try FileManager.default.removeItem(atPath: fixture.database + ".fts")
        for suffix in ["-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: fixture.database + ".fts" + suffix)
        }
        let match = try await fixture.cli("query", "--match", "anydesk")
        #expect(match.status == 2)
        #expect(match.stderr.contains("no full-text index: \(fixture.database).fts is missing"), "\(match.stderr)")
        let user = try await fixture.cli("query", "--user", "mchen")
        #expect(user.status == 0, "\(user.stderr)")
    }

    @Test func ordersDescendingAndCounts() async throws {
        let fixture = try await SharedIncident.shared.get()
        let descending = try await fixture.cli("query", "--user", "mchen", "--order", "desc", "--format", "jsonl")
        let times = try descending.lines.map { try jsonObject($0)["time"] as? String ?? "" }
        #expect(times.count == 8)
        #expect(times == times.sorted(by: >))
        let count = try await fixture.cli("query", "--host", "cc-ws-602", "--count")
        #expect(count.stdout == "9\n")
        #expect(count.status == 0)
    }

    @Test func receivedClockFiltersOnArrival() async throws {
        let fixture = try await SharedIncident.shared.get()
        // Everything arrived minutes ago, whatever its event time says.
        let recent = try await fixture.cli("query", "--clock", "received", "--since", "1h", "--count")
        #expect(recent.stdout == "13\n")
        let old = try await fixture.cli("query", "--clock", "received", "--until", "2026-11-25", "--count")
        #expect(old.stdout == "0\n")
        #expect(old.status == 1)
    }

    @Test(arguments: [
        ["--since", "yesterday"],
        ["--match", "\"unterminated"],
        ["--match", "foo:bar"],
        ["--where", "no operator"],
        ["--where", "f~(unclosed"],
        ["--agent", "nobody"],
        ["--around", "999999"],
        ["--format", "xml"],
        ["--tz", "Mars/Olympus"],
        ["--window", "ten minutes", "--around", "1"],
    ])
    func errorsExitTwoWithAnExplanation(arguments: [String]) async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("query", arguments: arguments)
        #expect(result.status == 2, "\(arguments): \(result.stdout)")
        #expect(!result.stderr.isEmpty)
    }

    @Test func badFullTextSyntaxIsExplainedInPlainWords() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("query", "--match", "\"unterminated")
        #expect(result.stderr.contains("not valid FTS5 syntax"))
        #expect(result.stderr.contains("double quotes"))
    }

    @Test func missingDatabaseExitsTwo() async throws {
        let result = try await FlightlogCLI.run(["query", "--db", "/nonexistent/flightlog.db"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot open database"))
    }

    @Test func jsonlCarriesEveryAttributeAndExactBytes() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("query", "--where", "event=oauth_consent", "--format", "jsonl")
        let object = try jsonObject(try #require(result.lines.first))
        for key in [
            "id", "time", "received", "host", "agent", "source", "process.name", "user.name", "source.ip", "message",
            "fields", "batch",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["time"] as? String == "2026-11-24T10:15:40.000000000Z")
        #expect(object["source.ip"] as? String == "203.0.113.77")
        #expect((object["fields"] as? [String: String])?["app"] == "Data Loader")
        let batch = try #require(object["batch"] as? [String: Any])
        #expect(batch["agent"] as? String == "cc-ws-602")
        #expect(batch["seq"] as? Int == 3)
        #expect(
            object["message"] as? String
                == #"{"event":"oauth_consent","user":"mchen","app":"Data Loader","scopes":"api refresh_token full","src_ip":"203.0.113.77"}"#
        )
        #expect(object["message_b64"] == nil)

        let odd = try await fixture.cli("query", "--program", "kernel", "--format", "jsonl")
        let oddObject = try jsonObject(try #require(odd.lines.first))
        let b64 = try #require(oddObject["message_b64"] as? String)
        #expect(Data(base64Encoded: b64) == Data(IncidentFixture.invalidUTF8Line))
        #expect((oddObject["message"] as? String)?.contains("\u{FFFD}") == true)
    }

    @Test func timeZoneShiftsPrintedTimes() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli(
            "query",
            "--where",
            "event=oauth_consent",
            "--format",
            "jsonl",
            "--tz",
            "Europe/Paris"
        )
        let object = try jsonObject(try #require(result.lines.first))
        #expect(object["time"] as? String == "2026-11-24T11:15:40.000000000+01:00")
    }

    @Test func csvHasHeaderAndQuotes() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("query", "--program", "crm-audit", "--format", "csv")
        let rows = result.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.count == 3)
        #expect(
            rows[0]
                == "id,time,received,host,agent,source,process.name,process.pid,user.name,source.ip,log.syslog.severity.name,message,fields,epoch,seq,index"
        )
        #expect(rows[1].contains(#""{""event"":""oauth_consent"",""user"":""mchen"""#))
    }

    @Test func timesketchHasItsRequiredKeys() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("query", "--user", "mchen", "--format", "timesketch")
        #expect(result.lines.count == 8)
        for line in result.lines {
            let object = try jsonObject(line)
            #expect(object["message"] is String)
            #expect(object["timestamp_desc"] as? String == "Event Time")
            #expect((object["datetime"] as? String)?.hasSuffix("Z") == true)
            #expect(line.hasPrefix("{\"message\":"))
        }
    }

    @Test func tableAndExplain() async throws {
        let fixture = try await SharedIncident.shared.get()
        let table = try await fixture.cli("query", "--user", "tpatel")
        #expect(table.lines.first?.hasPrefix("ID") == true)
        #expect(table.lines.count == 4)
        let explain = try await fixture.cli("query", "--host", "cc-ws-602", "--since", "2026-11-24", "--explain")
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("e.host = ?"))
        #expect(explain.stdout.contains("'cc-ws-602'"))
        #expect(explain.stdout.contains("-- plan:"))
    }
}

import FlightlogSigma
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@Suite("flightlog hunt with Sigma rules")
struct HuntCommandTests {
    @Test func starterPackFindsEachIncidentStepInOrder() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("hunt", "--rules", RepositoryFiles.rulePack, "--format", "jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try result.lines.map(jsonObject)
        var matches: [String: [[String: Any]]] = [:]
        for object in objects where object["type"] as? String == "match" {
            matches[object["rule"] as? String ?? "", default: []].append(object["event"] as? [String: Any] ?? [:])
        }
        func first(_ titlePrefix: String) throws -> [String: Any] {
            let key = try #require(
                matches.keys.first { $0.hasPrefix(titlePrefix) },
                "no matches for \(titlePrefix): \(matches.keys)"
            )
            return try #require(matches[key]?.first)
        }
        let correlation = try #require(
            matches.first { $0.key.hasPrefix("Help-desk password or MFA reset followed by a login") }?.value,
            "the reset-then-login correlation found nothing: \(matches.keys)"
        )
        let reset = try #require(
            correlation.first { ($0["message"] as? String)?.contains("password reset for user=mchen") == true }
        )
        let login = try #require(correlation.first { ($0["fields"] as? [String: String])?["event.action"] == "login" })
        let consent = try first("OAuth or connected-app consent")
        let export = try first("Bulk export of customer records")
        let remote = try first("Remote-access tool launched")
        let offHours = try first("CRM access outside working hours")
        #expect(login["source.ip"] as? String == "203.0.113.77")
        // One hit: mchen, with both resets (password, then MFA) and the first external login after them; the
        // internal logins of the baseline day and of tpatel are not part of it.
        let hits = objects.filter { $0["type"] as? String == "hit" }
        #expect(hits.count == 1)
        #expect(hits.first?["group"] as? [String: String] == ["user": "mchen"])
        #expect(hits.first?["matches"] as? Int == 3)
        #expect(correlation.count == 3)
        #expect(correlation.allSatisfy { $0["user.name"] as? String == "mchen" })
        #expect((consent["fields"] as? [String: String])?["app"] == "Data Loader")
        #expect((export["fields"] as? [String: String])?["records"] == "48210")
        #expect(remote["host"] as? String == "cc-ws-611")
        #expect((offHours["message"] as? String)?.contains("22:30:00") == true)
        let times = [reset, login, consent, export, remote].map { $0["time"] as? String ?? "" }
        #expect(times == times.sorted(), "incident steps out of order: \(times)")
        // Five rules run on their own (the correlation's two parts do not, as Sigma specifies); the summary says
        // so once, with the logsource that does not narrow the search, instead of a note under every rule.
        let rules = objects.filter { $0["type"] as? String == "rule" }
        #expect(rules.count == 5)
        #expect(rules.contains { $0["correlation"] as? String == "temporal_ordered" })
        let summary = try #require(objects.last, "no summary")
        #expect(summary["type"] as? String == "summary")
        #expect(summary["loaded"] as? Int == 7)
        #expect(summary["run"] as? Int == 5)
        #expect(summary["matched"] as? Int == 5)
        #expect((summary["not_run"] as? [Any])?.isEmpty == true)
        #expect((summary["cannot_match"] as? [Any])?.isEmpty == true)
        #expect(summary["logsource_named"] as? Int == 4, "every rule run on its own but the correlation names one")
        // Correlations find rules by name or id: the pack's must be unique.
        let pack = try SigmaRule.load(directory: RepositoryFiles.rulePack)
        let ids = pack.compactMap(\.id)
        #expect(ids.count == pack.count && Set(ids).count == ids.count, "\(ids)")
    }

    /// On a big rule set most rules match nothing: --matched-only prints the rules that fired, and the summary still
    /// counts the rest.
    @Test func matchedOnlyPrintsTheRulesThatFiredAndCountsTheRest() async throws {
        let fixture = try await SharedIncident.shared.get()
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        for (name, word) in [("never-a.yml", "zzqx-never-logged"), ("never-b.yml", "qqzx-nor-this")] {
            let rule = "title: Never \(word)\ndetection:\n  kw:\n    - '\(word)'\n  condition: kw\n"
            try Data(rule.utf8).write(to: URL(fileURLWithPath: dir.file(name)))
        }
        let rules = ["--rules", RepositoryFiles.rulePack, "--rules", dir.path]
        let all = try await fixture.cli("hunt", arguments: rules)
        let fired = try await fixture.cli("hunt", arguments: rules + ["--matched-only"])
        #expect(all.status == 0 && fired.status == 0, "\(all.stderr)\(fired.stderr)")
        let titles = { (out: String) in out.split(separator: "\n").filter { $0.hasPrefix("== ") && $0 != "== summary" }
        }
        let allTitles = titles(all.stdout)
        let firedTitles = titles(fired.stdout)
        #expect(!firedTitles.isEmpty && firedTitles.count == allTitles.count - 2, "\(fired.stdout)")
        #expect(!fired.stdout.contains("Never "), "\(fired.stdout)")
        #expect(!fired.stdout.contains("   0 matches") && all.stdout.contains("   0 matches"))
        let unmatched = allTitles.count - firedTitles.count
        #expect(
            fired.stdout.contains("\(unmatched) run and matched nothing (not printed: --matched-only)"),
            "\(fired.stdout)"
        )
        // What fired is printed exactly as without the flag.
        for title in firedTitles { #expect(all.stdout.contains(title)) }
        #expect(
            fired.stdout.split(separator: "\n").filter {
                (try? /^   \d+ (match|matches|hit|hits)$/.wholeMatch(in: $0)) != nil
            }
            .count == firedTitles.count
        )
    }

    @Test func aPathWithNoRuleIsAUsageErrorInPlainWords() async throws {
        let fixture = try await SharedIncident.shared.get()
        let empty = try TempDirectory()
        defer { empty.cleanup() }
        try FileManager.default.createDirectory(atPath: empty.file("linux/builtin"), withIntermediateDirectories: true)
        try Data("not a rule".utf8).write(to: URL(fileURLWithPath: empty.file("linux/builtin/README.txt")))
        try FileManager.default.createDirectory(atPath: empty.file(".git"), withIntermediateDirectories: true)
        try Data("title: hidden".utf8).write(to: URL(fileURLWithPath: empty.file(".git/rule.yml")))
        let cases = [
            ("/nonexistent-rules", "no file or folder at /nonexistent-rules"),
            (empty.path, "no Sigma rule (*.yml, *.yaml) in \(empty.path) or any folder under it"),
        ]
        for (path, message) in cases {
            let result = try await fixture.cli("hunt", "--rules", path)
            #expect(result.status == 2, "\(path)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain"))
        }
        let none = try await fixture.cli("hunt", arguments: [])
        #expect(none.status != 0)
        #expect(none.stderr.contains("--rules"), "\(none.stderr)")
    }

    /// A rule that tests a field no stored event has is still run, and the summary names it with the field; one that
    /// cannot be read is named with why.
    @Test func theSummarySaysWhatCanNeverMatchHereAndWhatWasNotRun() async throws {
        let fixture = try await SharedIncident.shared.get()
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let rules = [
            (
                "process.yml",
                "title: Shell spawned\nlogsource: {category: process_creation, product: linux}\n"
                    + "detection:\n  sel:\n    Image|endswith: /bash\n    user: mchen\n  condition: sel\n"
            ),
            (
                "either.yml",
                "title: Either\ndetection:\n  a:\n    Image: x\n  b:\n    user: mchen\n  condition: a or b\n"
            ),
            ("broken.yml", "title: Broken\ndetection:\n  sel:\n    x|expand: '%a%'\n  condition: sel\n"),
        ]
        for (name, yaml) in rules { try Data(yaml.utf8).write(to: URL(fileURLWithPath: dir.file(name))) }
        let result = try await fixture.cli("hunt", "--rules", dir.path, "--format", "jsonl")
        let objects = try result.lines.map(jsonObject)
        let summary = try #require(objects.last)
        #expect(summary["loaded"] as? Int == 3)
        #expect(summary["run"] as? Int == 2)
        #expect(summary["matched"] as? Int == 1, "Either matches through user")
        let cannot = try #require(summary["cannot_match"] as? [[String: Any]])
        #expect(cannot.count == 1)
        #expect(cannot.first?["rule"] as? String == "Shell spawned")
        // Named as the pipeline maps the rule's fields (Sysmon's Image is the agent's exe), and by its category: no
        // stored event is a linked audit exec.
        #expect(cannot.first?["absent_fields"] as? [String] == ["exe", "audit_view process_creation"])
        let notRun = try #require(summary["not_run"] as? [[String: Any]])
        #expect(notRun.first?["rule"] as? String == "Broken")
        #expect((notRun.first?["why"] as? String)?.contains("expand") == true)
        let table = try await fixture.cli("hunt", "--rules", dir.path)
        #expect(
            table.stdout.contains(
                "can never match on this store: no stored event has exe, audit_view process_creation"
            ),
            "\(table.stdout)"
        )
        #expect(table.stdout.contains("== summary\n   3 rules loaded, 2 run, 1 matched, 1 not run"), "\(table.stdout)")
    }

    /// The built-in pipeline maps Sysmon's names and narrows a logsource to its programs; --no-default-pipeline
    /// runs the rule as written; a pipeline that cannot be used stops the hunt with why.
    @Test func pipelinesMapFieldsAndNarrowLogsources() async throws {
        let fixture = try await SharedIncident.shared.get()
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let rule =
            "title: Anything about mchen from sshd\nlogsource: {product: linux, service: sshd}\n"
            + "detection:\n  kw:\n    - 'mchen'\n  condition: kw\n"
        try Data(rule.utf8).write(to: URL(fileURLWithPath: dir.file("rule.yml")))
        let mapped = try await fixture.cli("hunt", "--rules", dir.file("rule.yml"), "--format", "jsonl")
        let summary = try #require(try mapped.lines.map(jsonObject).last)
        // The incident has no sshd lines: narrowed to sshd's programs, the rule finds nothing, and says why.
        #expect(summary["logsource_narrowed"] as? Int == 1)
        #expect(summary["matched"] as? Int == 0, "\(mapped.stdout)")
        let cannot = try #require(summary["cannot_match"] as? [[String: Any]])
        #expect(cannot.first?["absent_fields"] as? [String] == ["program sshd|sshd-session"])
        let asWritten = try await fixture.cli(
            "hunt",
            "--rules",
            dir.file("rule.yml"),
            "--no-default-pipeline",
            "--format",
            "jsonl"
        )
        let asWrittenSummary = try #require(try asWritten.lines.map(jsonObject).last)
        #expect(asWrittenSummary["logsource_narrowed"] as? Int == 0)
        #expect(asWrittenSummary["matched"] as? Int == 1)
        try Data("transformations:\n  - type: drop_detection_item\n".utf8).write(
            to: URL(fileURLWithPath: dir.file("bad.yml"))
        )
        let bad = try await fixture.cli("hunt", "--rules", dir.file("rule.yml"), "--pipeline", dir.file("bad.yml"))
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("transformation type 'drop_detection_item' is not supported"), "\(bad.stderr)")
    }

    /// SigmaHQ's layout: rules in folders under folders (`rules/linux/builtin/…`), and single files.
    @Test func rulesAreFoundInFolderTreesAndSingleFiles() async throws {
        let fixture = try await SharedIncident.shared.get()
        let tree = try TempDirectory()
        defer { tree.cleanup() }
        for folder in ["linux/builtin/sshd", "web/product", ".hidden"] {
            try FileManager.default.createDirectory(atPath: tree.file(folder), withIntermediateDirectories: true)
        }
        let pack = RepositoryFiles.rulePack + "/"
        try FileManager.default.copyItem(
            atPath: pack + "bulk_export_customer_records.yml",
            toPath: tree.file("linux/builtin/sshd/bulk.yml")
        )
        try FileManager.default.copyItem(
            atPath: pack + "remote_access_tool_launched.yml",
            toPath: tree.file("web/product/remote.yaml")
        )
        try FileManager.default.copyItem(
            atPath: pack + "oauth_connected_app_consent.yml",
            toPath: tree.file(".hidden/oauth.yml")
        )
        func ruleTitles(_ arguments: [String]) async throws -> [String] {
            let result = try await fixture.cli("hunt", arguments: ["--format", "jsonl"] + arguments)
            #expect(result.status == 0, "\(result.stderr)")
            return try result.lines.map(jsonObject).filter { $0["type"] as? String == "rule" }
                .compactMap { $0["rule"] as? String }
        }
        let fromTree = try await ruleTitles(["--rules", tree.path])
        #expect(fromTree.count == 2, "\(fromTree)")
        #expect(fromTree.contains { $0.hasPrefix("Bulk export of customer records") })
        #expect(fromTree.contains { $0.hasPrefix("Remote-access tool launched") })
        #expect(!fromTree.contains { $0.hasPrefix("OAuth") }, "hidden folders are skipped")
        let oneFile = try await ruleTitles(["--rules", tree.file("web/product/remote.yaml")])
        #expect(oneFile.count == 1 && oneFile.first?.hasPrefix("Remote-access tool launched") == true)
        let both = try await ruleTitles([
            "--rules", tree.file("web"), "--rules", pack + "oauth_connected_app_consent.yml",
        ])
        #expect(both.count == 2, "\(both)")
    }
}

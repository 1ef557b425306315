import FlightlogAgent
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// SigmaHQ's Sysmon-style rules (`logsource: {product: linux, category: …}`) hunted with the real `flightlog hunt`
/// on a real store of Filebeat's RHEL 7 `audit.log` (`Tests/Fixtures/auditd/filebeat-audit-rhel7.log`, 2,447 records),
/// parsed and linked as the agent does (``AuditEventLinker``) and stored through signed, chained batches.
@Suite("Sigma's process, network and file categories on linked audit records")
struct AuditViewHuntTests {
    struct Store {
        let directory: TempDirectory
        var database: String { self.directory.file("flightlog.db") }

        static func make() async throws -> Store {
            let store = Store(directory: try TempDirectory())
            let agent = TestAgent(name: "rhel7")
            let raw = try Data(
                contentsOf: RepositoryFiles.fixtures.appendingPathComponent("auditd/filebeat-audit-rhel7.log")
            )
            let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
            var linker = AuditEventLinker()
            let source = "/var/log/audit/audit.log"
            let observed: Int64 = 1_765_000_000_000_000_000
            let events = raw.split(separator: UInt8(ascii: "\n")).enumerated().map { offset, slice in
                let line = Array(slice)
                let parsed = parser.parse(line, observedNanos: observed + Int64(offset))
                var fields = parsed.fields
                if parsed.format == .audit { linker.link(&fields, line: line, source: source) }
                return Event(
                    timeNanos: parsed.timeNanos ?? observed,
                    observedNanos: observed + Int64(offset),
                    flags: parsed.timeNanos == nil ? [] : .timeFromLine,
                    host: agent.name,
                    source: source,
                    line: line,
                    fields: fields
                )
            }
            let batches = stride(from: 0, to: events.count, by: 500).map {
                Array(events[$0..<min($0 + 500, events.count)])
            }
            let chain = try agent.chain(batches)
            let sqlite = try Storage.open(path: store.database)
            try await sqlite.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await agent.ingest(chain, into: sqlite)
            try await sqlite.drainFullTextIndex()
            return store
        }

        /// Hunts with `rules` (file name → YAML) and returns the JSONL objects.
        func hunt(_ rules: [(String, String)]) async throws -> [[String: Any]] {
            let folder = try TempDirectory()
            defer { folder.cleanup() }
            for (name, yaml) in rules { try Data(yaml.utf8).write(to: URL(fileURLWithPath: folder.file(name))) }
            let result = try await FlightlogCLI.run([
                "hunt", "--db", self.database, "--rules", folder.path, "--format", "jsonl",
            ])
            #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
            return try result.lines.map(jsonObject)
        }
    }

    static func matches(_ objects: [[String: Any]], _ title: String) -> [[String: String]] {
        objects.filter { $0["type"] as? String == "match" && $0["rule"] as? String == title }
            .compactMap { ($0["event"] as? [String: Any])?["fields"] as? [String: String] }
    }

    /// A process_creation rule that needs the image AND the command line finds the one exec of curl, on the record
    /// that links them, and nothing else: not the SYSCALL records of curl's own connects (exe curl, no command
    /// line), not the EXECVE record (command line, no exe). Its parent, bash, comes from bash's own exec.
    @Test func aProcessCreationRuleNeedingImageAndCommandLineFindsTheExec() async throws {
        let store = try await Store.make()
        defer { store.directory.cleanup() }
        let objects = try await store.hunt([
            (
                "curl.yml",
                """
                title: Curl fetching from elastic.co
                logsource: {product: linux, category: process_creation}
                detection:
                  selection:
                    Image|endswith: '/curl'
                    CommandLine|contains: 'elastic.co'
                  condition: selection
                """
            ),
            (
                "parent.yml",
                """
                title: Curl started by a shell
                logsource: {product: linux, category: process_creation}
                detection:
                  selection:
                    ParentImage|endswith: '/bash'
                    Image|endswith: '/curl'
                  condition: selection
                """
            ),
        ])
        let curl = Self.matches(objects, "Curl fetching from elastic.co")
        #expect(curl.count == 1, "\(objects)")
        #expect(curl.first?["audit_serial"] == "689")
        #expect(curl.first?["audit_view"] == "process_creation")
        // Outputs name the fields in ECS (docs/SCHEMA.md): `command` is process.command_line.
        #expect(curl.first?["process.command_line"] == "curl elastic.co")
        let parent = Self.matches(objects, "Curl started by a shell")
        #expect(parent.count == 1)
        #expect(parent.first?["process.parent.executable"] == "/usr/bin/bash")
        let summary = try #require(objects.last)
        #expect((summary["cannot_match"] as? [Any])?.isEmpty == true, "\(summary)")
        #expect(summary["logsource_narrowed"] as? Int == 2)
    }

    /// SigmaHQ's `Linux Reverse Shell Indicator` (network_connection, 83dcd9f6-9ca8-4af7-a16e-a1c7a6b51871, as
    /// published): bash with a destination that is not local. The store has bash execs and connects by other
    /// programs; before the category narrowed the search it fired on every bash record. A network rule for what
    /// curl did connect to finds it.
    @Test func theReverseShellRuleNoLongerFiresOnAPlainBashExec() async throws {
        let store = try await Store.make()
        defer { store.directory.cleanup() }
        let bash = try await FlightlogCLI.run([
            "query", "--db", store.database, "--where", "exe=/usr/bin/bash", "--count",
        ])
        #expect((Int(bash.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 10, "\(bash.stdout)")
        let objects = try await store.hunt([
            (
                "net_connection_lnx_back_connect_shell_dev.yml",
                """
                title: Linux Reverse Shell Indicator
                id: 83dcd9f6-9ca8-4af7-a16e-a1c7a6b51871
                status: test
                logsource:
                    product: linux
                    category: network_connection
                detection:
                    selection:
                        Image|endswith: '/bin/bash'
                    filter:
                        DestinationIp:
                            - '127.0.0.1'
                            - '0.0.0.0'
                    condition: selection and not filter
                level: critical
                """
            ),
            (
                "dns.yml",
                """
                title: Curl asks the metadata DNS
                logsource: {product: linux, category: network_connection}
                detection:
                  selection:
                    Image|endswith: '/curl'
                    DestinationPort: 53
                    DestinationIp|cidr: '169.254.0.0/16'
                    Initiated: 'true'
                  condition: selection
                """
            ),
        ])
        #expect(Self.matches(objects, "Linux Reverse Shell Indicator").isEmpty, "\(objects)")
        let dns = Self.matches(objects, "Curl asks the metadata DNS")
        #expect(dns.count == 1)
        #expect(dns.first?["audit_serial"] == "692")
        let summary = try #require(objects.last)
        #expect((summary["cannot_match"] as? [Any])?.isEmpty == true, "\(summary)")
    }

    /// This store has no file creation (no watch rule wrote a CREATE record) and no file_change view at all: the
    /// rules run, match nothing, and the summary names the logsource as the reason.
    @Test func aCategoryWithNoStoredViewIsReportedAsTheReason() async throws {
        let store = try await Store.make()
        defer { store.directory.cleanup() }
        let objects = try await store.hunt([
            (
                "cron.yml",
                """
                title: Cron file created
                logsource: {product: linux, category: file_event}
                detection:
                  selection:
                    TargetFilename|startswith: '/etc/cron.d/'
                  condition: selection
                """
            ),
            (
                "times.yml",
                """
                title: File times changed
                logsource: {product: linux, category: file_change}
                detection:
                  selection:
                    Image|endswith: '/touch'
                  condition: selection
                """
            ),
        ])
        let summary = try #require(objects.last)
        #expect(summary["matched"] as? Int == 0)
        let cannot = try #require(summary["cannot_match"] as? [[String: Any]])
        let reasons = Dictionary(
            cannot.map { ($0["rule"] as? String ?? "", $0["absent_fields"] as? [String] ?? []) },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(reasons["Cron file created"] == ["path", "audit_view file_event"], "\(cannot)")
        #expect(reasons["File times changed"] == ["audit_view file_change"], "\(cannot)")
    }
}

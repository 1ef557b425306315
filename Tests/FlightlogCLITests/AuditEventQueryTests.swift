import FlightlogAgent
import FlightlogEvidence
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// auditd records of real hosts, parsed by the agent's own parser and stored as the aggregator stores what an agent
/// ships (signed, chained batches through the store's ingest, no server): the Linux Audit project's
/// `audit-userspace-test4.log` (two executions, serials 25618 and 27091) and Red Hat's documented event, serial
/// 24287 (see `Tests/Fixtures/auditd/README.md` and `AuditRecordTests`), read from one host's
/// `/var/log/audit/audit.log`.
struct AuditStore {
    let directory: TempDirectory
    var database: String { self.directory.file("flightlog.db") }
    static let host = "build-07"

    static let redHat = [
        #"type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-13 a0=7fffd19c5592 a1=0 a2=7fffd19c4b50 a3=a items=1 ppid=2686 pid=3538 auid=500 uid=500 gid=500 euid=500 suid=500 fsuid=500 egid=500 sgid=500 fsgid=500 tty=pts0 ses=1 comm="cat" exe="/bin/cat" subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 key="sshd_config""#,
        #"type=CWD msg=audit(1364481363.243:24287):  cwd="/home/shadowman""#,
        #"type=PATH msg=audit(1364481363.243:24287): item=0 name="/etc/ssh/sshd_config" inode=409248 dev=fd:00 mode=0100600 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:etc_t:s0"#,
    ]

    static func make() async throws -> AuditStore {
        let store = AuditStore(directory: try TempDirectory())
        let agent = TestAgent(name: Self.host)
        let raw = try Data(
            contentsOf: RepositoryFiles.fixtures.appendingPathComponent("auditd/audit-userspace-test4.log")
        )
        let lines =
            raw.split(separator: UInt8(ascii: "\n")).map { Array($0) } + Self.redHat.map { Array($0.utf8) }
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        let observed: Int64 = 1_765_000_000_000_000_000
        let events = lines.enumerated().map { offset, line in
            let parsed = parser.parse(line, observedNanos: observed + Int64(offset))
            return Event(
                timeNanos: parsed.timeNanos ?? observed,
                observedNanos: observed + Int64(offset),
                flags: parsed.timeNanos == nil ? [] : .timeFromLine,
                host: agent.name,
                source: "/var/log/audit/audit.log",
                line: line,
                fields: parsed.fields
            )
        }
        let chain = try agent.chain([Array(events.prefix(7)), Array(events.dropFirst(7))])
        let sqlite = try Storage.open(path: store.database)
        try await sqlite.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        try await agent.ingest(chain, into: sqlite)
        let signer = try AggregatorKeyFile.loadOrCreate(AggregatorKeyFile.defaultPath(database: store.database))
        _ = try await sqlite.makeCheckpoint(signer: signer, atNanos: nowNanos())
        try await sqlite.drainFullTextIndex()
        return store
    }

    func query(_ arguments: String...) async throws -> FlightlogCLI.Result {
        try await FlightlogCLI.run(["query", "--db", self.database] + arguments)
    }
}

@Suite("The records of one audit event, queried together")
struct AuditEventQueryTests {
    static func fields(_ result: FlightlogCLI.Result) throws -> [[String: Any]] {
        try result.lines.map { line in
            guard let fields = try jsonObject(line)["fields"] as? [String: Any] else {
                throw TestFailure("no fields: \(line)")
            }
            return fields
        }
    }

    @Test func oneSerialGivesEveryRecordOfItsEvent() async throws {
        let store = try await AuditStore.make()
        defer { store.directory.cleanup() }

        let execution = try await store.query("--where", "audit_serial=25618", "--format", "jsonl", "--order", "asc")
        #expect(execution.status == 0, "\(execution.stderr)")
        let records = try Self.fields(execution)
        #expect(
            records.compactMap { $0["audit_type"] as? String }.sorted()
                == ["CWD", "EXECVE", "PATH", "PATH", "PATH", "PROCTITLE", "SYSCALL"],
            "\(execution.stdout)"
        )
        let syscall = records.first { $0["audit_type"] as? String == "SYSCALL" }
        #expect(syscall?["process.executable"] as? String == "/bin/sh4")
        #expect(syscall?["auid"] as? String == "573")
        #expect(syscall?["process.name"] as? String == "ld")
        let execve = records.first { $0["audit_type"] as? String == "EXECVE" }
        #expect((execve?["process.command_line"] as? String)?.hasPrefix("/bin/sh -efu /usr/bin/ld -plugin ") == true)
        let cwd = records.first { $0["audit_type"] as? String == "CWD" }
        #expect(cwd?["process.working_directory"] as? String == "/usr/src/RPM/BUILD/zlib-1.2.11-alt1")

        // The same with the host named, and counted; another serial brings only its own records.
        let counted = try await store.query("--where", "audit_serial=25618", "--host", AuditStore.host, "--count")
        #expect(counted.stdout == "7\n", "\(counted.stdout) \(counted.stderr)")
        let redHat = try await store.query("--where", "audit_serial=24287", "--format", "jsonl")
        #expect(
            try Self.fields(redHat).compactMap { $0["audit_type"] as? String }.sorted() == ["CWD", "PATH", "SYSCALL"]
        )
        let denied = try await store.query(
            "--where",
            "audit_serial=24287",
            "--where",
            "outcome=failure",
            "--format",
            "jsonl"
        )
        #expect(try Self.fields(denied).compactMap { $0["key"] as? String } == ["sshd_config"])
    }

    /// What a process-creation view can already ask: every command line, and which program ran it.
    @Test func commandLinesAndTheirPrograms() async throws {
        let store = try await AuditStore.make()
        defer { store.directory.cleanup() }
        let commands = try await store.query("--where", "audit_type=EXECVE", "--format", "jsonl", "--order", "asc")
        let lines = try Self.fields(commands).compactMap { $0["process.command_line"] as? String }
        #expect(lines.count == 2, "\(commands.stdout)")
        #expect(lines.last?.hasPrefix("/usr/bin/m4 --nesting-limit=1024 ") == true)
        let programs = try await store.query("--program", "m4", "--where", "audit_type=SYSCALL", "--count")
        #expect(programs.stdout == "1\n", "\(programs.stdout) \(programs.stderr)")
        let cat = try await store.query("--program", "cat", "--count")
        #expect(cat.stdout == "1\n", "\(cat.stdout) \(cat.stderr)")
    }
}

import FlightlogAgent
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// auditd's `audit.log`, parsed from records real hosts wrote (`Tests/Fixtures/auditd/`, whose README cites each
/// source), with the truth taken from outside the parser wherever there is one: Filebeat's expected output.
@Suite("auditd's audit.log records")
struct AuditRecordTests {
    static let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)

    static func parse(_ line: String) -> ParsedLine {
        Self.parser.parse(Array(line.utf8), observedNanos: 1_800_000_000_000_000_000)
    }

    static func lines(_ fixture: String) throws -> [[UInt8]] {
        let raw = try Data(contentsOf: RepositoryFiles.fixtures.appendingPathComponent("auditd/" + fixture))
        var lines = raw.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// Every value of `key`, in order (a record may repeat a key: `uid=` outside and inside `msg='…'`).
    static func values(_ parsed: ParsedLine, _ key: String) -> [String] {
        parsed.fields.filter { $0.key == key }.map(\.value)
    }

    static func expectWithinLimits(_ parsed: ParsedLine, _ what: String) {
        #expect(parsed.fields.count <= WireLimits.maxFieldsPerEvent, "\(what)")
        for field in parsed.fields {
            #expect(!field.key.isEmpty && field.key.utf8.count <= WireLimits.maxFieldKeyLength, "\(what)")
            #expect(field.value.utf8.count <= WireLimits.maxFieldValueLength, "\(what): \(field.key)")
        }
    }

    // MARK: - An event as Red Hat documents it

    /// Red Hat Enterprise Linux 6 Security Guide, 7.6 "Understanding Audit Log Files",
    /// https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/6/html/security_guide/sec-understanding_audit_log_files
    /// (`cat /etc/ssh/sshd_config` denied by a watch with key `sshd_config`): the three records of serial 24287.
    static let redHat = [
        #"type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-13 a0=7fffd19c5592 a1=0 a2=7fffd19c4b50 a3=a items=1 ppid=2686 pid=3538 auid=500 uid=500 gid=500 euid=500 suid=500 fsuid=500 egid=500 sgid=500 fsgid=500 tty=pts0 ses=1 comm="cat" exe="/bin/cat" subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 key="sshd_config""#,
        #"type=CWD msg=audit(1364481363.243:24287):  cwd="/home/shadowman""#,
        #"type=PATH msg=audit(1364481363.243:24287): item=0 name="/etc/ssh/sshd_config" inode=409248 dev=fd:00 mode=0100600 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:etc_t:s0"#,
    ]

    @Test func theRedHatSecurityGuidesEvent() {
        let records = Self.redHat.map(Self.parse)
        for record in records {
            #expect(record.format == .audit)
            #expect(record.timeNanos == 1_364_481_363_243_000_000, "the record's own time, to the millisecond")
            #expect(record[field: "audit_serial"] == "24287")
        }
        #expect(records.map { $0[field: "audit_type"] } == ["SYSCALL", "CWD", "PATH"])
        let syscall = records[0]
        #expect(syscall[field: "program"] == "cat")
        #expect(syscall[field: "exe"] == "/bin/cat")
        #expect(syscall[field: "comm"] == "cat")
        #expect(syscall[field: "outcome"] == "failure")
        #expect(syscall[field: "success"] == "no")
        #expect(syscall[field: "exit"] == "-13")
        #expect(syscall[field: "key"] == "sshd_config")
        #expect(syscall[field: "auid"] == "500")
        #expect(syscall[field: "uid"] == "500")
        #expect(syscall[field: "a0"] == "7fffd19c5592", "a SYSCALL record's a0 is a register, not text")
        #expect(syscall[field: "user"] == nil, "no name is made up from a number")
        #expect(records[1][field: "cwd"] == "/home/shadowman")
        #expect(records[2][field: "name"] == "/etc/ssh/sshd_config")
        #expect(records[2][field: "obj"] == "system_u:object_r:etc_t:s0")
    }

    // MARK: - Filebeat's expected output

    /// How many of Filebeat's values the parser gave, and which it gave otherwise.
    struct Figures: CustomStringConvertible {
        var lines = 0
        var compared = 0
        var matched = 0
        var wrong: [String] = []
        var description: String { "\(lines) lines, \(matched)/\(compared) of Filebeat's values, \(wrong.count) wrong" }
    }

    /// Filebeat's (ECS) name → the agent's field, for each value Filebeat extracts from the text itself. Skipped:
    /// `message` (Filebeat's leftover of a `msg='…'`), `host.architecture` (an interpretation of `arch`), the
    /// event's bookkeeping (`event.*` but `event.action`, `fileset.*`, `input.*`, `log.*`, `service.*`, `ecs.*`).
    static let filebeatNames: [String: String] = [
        "process.executable": "exe", "process.name": "comm", "process.pid": "pid", "process.ppid": "ppid",
        "user.id": "uid", "user.audit.id": "auid", "user.name": "user", "user.terminal": "terminal",
        "user.effective.id": "euid", "user.saved.id": "suid", "user.filesystem.id": "fsuid", "user.group.id": "gid",
        "user.effective.group.id": "egid", "user.saved.group.id": "sgid", "user.filesystem.group.id": "fsgid",
        "destination.address": "dst",
    ]

    /// Scores the parser on `log` against Filebeat's `expected` output of the same lines.
    static func scoreAgainstFilebeat(log: String, expected: String) throws -> Figures {
        let lines = try Self.lines(log)
        let data = try Data(contentsOf: RepositoryFiles.fixtures.appendingPathComponent("auditd/" + expected))
        guard let documents = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw TestFailure("\(expected) is not an array of objects")
        }
        guard documents.count == lines.count else {
            throw TestFailure("\(documents.count) expected documents for \(lines.count) lines of \(log)")
        }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var figures = Figures()
        for (line, document) in zip(lines, documents) {
            figures.lines += 1
            let parsed = Self.parser.parse(line, observedNanos: 1_800_000_000_000_000_000)
            let text = String(decoding: line, as: UTF8.self)
            func check(_ name: String, _ expected: String, _ found: [String]) {
                figures.compared += 1
                if found.contains(expected) {
                    figures.matched += 1
                } else {
                    figures.wrong.append("\(name)=\(expected), found \(found): \(text)")
                }
            }
            for (name, value) in document {
                let expected: String
                switch value {
                case let string as String: expected = string
                case let number as NSNumber: expected = number.stringValue
                case let array as [String]:
                    // process.args: the command line, each argument in its own field.
                    check(name, array.joined(separator: " "), Self.values(parsed, "command"))
                    continue
                default: continue
                }
                switch name {
                case "@timestamp":
                    let nanos = iso.date(from: expected).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
                    check(
                        name,
                        nanos.map { String($0 * 1_000_000) } ?? expected,
                        [parsed.timeNanos.map(String.init) ?? ""]
                    )
                case "auditd.log.sequence": check(name, expected, Self.values(parsed, "audit_serial"))
                case "event.action": check(name, expected, Self.values(parsed, "audit_type").map { $0.lowercased() })
                case "event.outcome": check(name, expected, Self.values(parsed, "res") + Self.values(parsed, "success"))
                case "source.ip", "source.address":
                    // addr=, or an IPsec record's src= (a network, which Filebeat also calls the source; the agent
                    // keeps it as src, not as src_ip).
                    let ours = name == "source.ip" ? Self.values(parsed, "src_ip") : Self.values(parsed, "addr")
                    check(name, expected, ours + Self.values(parsed, "src"))
                default:
                    if let key = Self.filebeatNames[name] {
                        check(name, expected, Self.values(parsed, key))
                    } else if name.hasPrefix("auditd.log.") {
                        check(name, expected, Self.values(parsed, String(name.dropFirst("auditd.log.".count))))
                    }
                }
            }
        }
        return figures
    }

    @Test(arguments: [
        ("filebeat-test.log", "filebeat-test.log-expected.json"),
        ("filebeat-audit-rhel6.log", "filebeat-audit-rhel6.log-expected.json"),
    ])
    func filebeatsValues(log: String, expected: String) throws {
        let figures = try Self.scoreAgainstFilebeat(log: log, expected: expected)
        print("Filebeat \(log): \(figures)")
        #expect(figures.compared > figures.lines * 8, "Filebeat extracts values from every line: \(figures)")
        #expect(figures.wrong.isEmpty, "\(figures.wrong)")
    }

    /// Lines of Filebeat's current auditd tests (elastic/beats, `filebeat/module/auditd/log/test/`, Apache 2.0) with
    /// the values of its expected output: `execve-hex-arg-expected.json` at e6f438be9d532ff60358f30c757c3dae0725a842,
    /// `useradd.log-expected.json` at 6450732b5cb91a5217a7d2010a5e2ec98aff6d7b and `test.log-expected.json` at
    /// fc0bd352d30bf7db2c10df9245eda165d6051450 (each line is that output's `event.original`). The agent's field
    /// for each of Filebeat's: `process.args` → `command`, `source.ip` → `src_ip`, `user.name` → `user`,
    /// `process.name` → `comm`, `auditd.log.X` → `X`.
    static let currentFilebeat: [(String, [String: [String]])] = [
        (
            #"type=EXECVE msg=audit(1669615313.901:5538): argc=3 a0="sh" a1="-c" a2=6563686F205C226172672068657820656E636F6465645C22"#,
            ["command": [#"sh -c echo \"arg hex encoded\""#], "a2": [#"echo \"arg hex encoded\""#], "argc": ["3"]]
        ),
        (
            #"type=ADD_GROUP msg=audit(1610903553.686:584): pid=2940 uid=0 auid=1000 ses=14 msg='op=adding group to /etc/group id=1004 exe="/usr/sbin/groupadd" hostname=ubuntu-bionic addr=127.0.0.1 terminal=pts/2 res=success'"#,
            [
                "op": ["adding group to /etc/group"], "id": ["1004"], "hostname": ["ubuntu-bionic"],
                "src_ip": ["127.0.0.1"], "exe": ["/usr/sbin/groupadd"], "terminal": ["pts/2"], "outcome": ["success"],
                "auid": ["1000"], "uid": ["0"], "ses": ["14"], "pid": ["2940"],
            ]
        ),
        (
            #"type=USER_ACCT msg=audit(1610903553.814:593): pid=2948 uid=0 auid=1000 ses=14 msg='pam_tally2 uid=1004 reset=0 exe="/sbin/pam_tally2" hostname=localhost addr=127.0.0.1 terminal=/dev/pts/2 res=success'"#,
            ["uid": ["0", "1004"], "reset": ["0"], "exe": ["/sbin/pam_tally2"], "terminal": ["/dev/pts/2"]]
        ),
        (
            #"type=USER_CHAUTHTOK msg=audit(1610903558.174:594): pid=2953 uid=0 auid=1000 ses=14 msg='op=PAM:chauthtok acct="charlie" exe="/usr/bin/passwd" hostname=ubuntu-bionic addr=127.0.0.1 terminal=pts/2 res=success'"#,
            ["user": ["charlie"], "op": ["PAM:chauthtok"], "exe": ["/usr/bin/passwd"], "program": ["passwd"]]
        ),
        (
            #"type=PROCTITLE msg=audit(1451781471.394:194438): proctitle="bash""#,
            ["proctitle": ["bash"], "command": ["bash"]]
        ),
        (
            #"type=PROCTITLE msg=audit(1451781471.394:194440): proctitle=737368643A206275726E205B707269765D"#,
            ["proctitle": ["sshd: burn [priv]"], "command": ["sshd: burn [priv]"]]
        ),
        (
            #"type=SOFTWARE_UPDATE msg=audit(1573844484.309:785): pid=3157 uid=0 auid=1000 ses=3 subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 msg='sw="gcc-4.8.5-39.el7.x86_64" sw_type=rpm key_enforce=0 gpg_res=1 root_dir="/" comm="yum" exe="/usr/bin/python2.7" hostname=? addr=? terminal=? res=success'"#,
            [
                "sw": ["gcc-4.8.5-39.el7.x86_64"], "sw_type": ["rpm"], "gpg_res": ["1"], "root_dir": ["/"],
                "comm": ["yum"], "exe": ["/usr/bin/python2.7"], "outcome": ["success"],
            ]
        ),
        (#"type=EXECVE msg=audit(1581371984.206:579393): argc=1 a0=top"#, ["command": ["top"]]),
        (
            #"type=SYSCALL msg=audit(1581371984.206:579398): arch=x86_64 syscall=execve success=yes exit=0 a0=0x1fd05c0 a1=0x1fd2730 a2=0x1fd4640 a3=0x7ffc6939f360 items=2 ppid=2563 pid=2614 auid=vagrant uid=vagrant gid=vagrant euid=vagrant suid=vagrant fsuid=vagrant egid=vagrant sgid=vagrant fsgid=vagrant tty=pts0 ses=2 comm=top exe=/usr/bin/top subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 key=(null)"#,
            [
                "a0": ["0x1fd05c0"], "syscall": ["execve"], "auid": ["vagrant"], "uid": ["vagrant"], "comm": ["top"],
                "exe": ["/usr/bin/top"], "tty": ["pts0"], "exit": ["0"],
            ]
        ),
        (#"type=KERN_MODULE msg=audit(1581371984.206:579397): name=mymodule"#, ["name": ["mymodule"]]),
        (
            #"type=SYSTEM_BOOT msg=audit(1573844456.144:5): pid=678 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg=' comm="systemd-update-utmp" exe="/usr/lib/systemd/systemd-update-utmp" hostname=? addr=? terminal=? res=success'"#,
            ["comm": ["systemd-update-utmp"], "exe": ["/usr/lib/systemd/systemd-update-utmp"], "outcome": ["success"]]
        ),
    ]

    @Test func currentFilebeatLines() {
        var compared = 0
        for (line, expected) in Self.currentFilebeat {
            let parsed = Self.parse(line)
            #expect(parsed.format == .audit)
            for (key, values) in expected {
                compared += values.count
                #expect(Self.values(parsed, key) == values, "\(key) of \(line): \(parsed.fields)")
            }
        }
        print("Filebeat's current tests: \(Self.currentFilebeat.count) lines, \(compared) values compared")
    }

    // MARK: - Whole logs

    /// 2,447 records of a RHEL 7 host from Filebeat's tests: every one is read as a record of its type, with the time
    /// and serial of its `audit(…)` stamp, within the wire limits.
    @Test func aRHEL7HostsLogParsesWhole() throws {
        let lines = try Self.lines("filebeat-audit-rhel7.log")
        var stamped = 0
        var serial479: [String] = []
        for line in lines {
            let parsed = Self.parser.parse(line, observedNanos: 1_800_000_000_000_000_000)
            let text = String(decoding: line, as: UTF8.self)
            #expect(parsed.format == .audit, "\(text)")
            #expect(parsed[field: "audit_type"] != nil, "\(text)")
            Self.expectWithinLimits(parsed, text)
            if text.contains("msg=audit(") {
                stamped += 1
                #expect(parsed.timeNanos != nil && parsed[field: "audit_serial"] != nil, "\(text)")
            }
            if parsed[field: "audit_serial"] == "479" { serial479.append(parsed[field: "audit_type"] ?? "") }
        }
        print("Filebeat audit-rhel7.log: \(lines.count) lines, \(stamped) with a time and serial")
        #expect(lines.count == 2_447)
        #expect(stamped == 2_328)
        #expect(serial479.sorted() == ["CWD", "EXECVE", "PATH", "PATH", "SYSCALL"])
    }

    /// The Linux Audit project's auparse test4.log: two executions, one with 216 arguments (more than an event holds).
    @Test func executionsFromAnRPMBuild() throws {
        let records = try Self.lines("audit-userspace-test4.log").map {
            Self.parser.parse($0, observedNanos: 1_800_000_000_000_000_000)
        }
        #expect(records.count == 13)
        for record in records { Self.expectWithinLimits(record, "\(record.fields.prefix(3))") }
        let syscall = records[0]
        #expect(syscall[field: "audit_type"] == "SYSCALL")
        #expect(syscall[field: "timeNanos"] == nil)
        #expect(syscall.timeNanos == 1_655_465_398_534_000_000)
        #expect(syscall[field: "program"] == "ld")
        #expect(syscall[field: "exe"] == "/bin/sh4")
        #expect(syscall[field: "auid"] == "573")
        #expect(syscall[field: "outcome"] == "success")

        let execve = records[1]
        #expect(execve[field: "argc"] == "48")
        #expect(execve[field: "truncated"] == nil, "48 arguments fit")
        #expect(execve[field: "a47"] == "/usr/lib64/gcc/aarch64-alt-linux/8/../../../../lib64/crtn.o")
        let command = execve[field: "command"] ?? ""
        #expect(command.hasPrefix("/bin/sh -efu /usr/bin/ld -plugin /usr/libexec/gcc/"), "\(command)")
        #expect(command.hasSuffix(" /usr/lib64/gcc/aarch64-alt-linux/8/../../../../lib64/crtn.o"), "\(command)")

        let proctitle = records[6]
        #expect(proctitle[field: "audit_type"] == "PROCTITLE")
        #expect(proctitle[field: "command"]?.hasPrefix("/bin/sh -efu /usr/bin/ld -plugin /usr/libexec/gcc/") == true)
        #expect(proctitle[field: "proctitle"] == proctitle[field: "command"])

        let long = records[8]
        #expect(long[field: "argc"] == "216")
        #expect(long.fields.count == WireLimits.maxFieldsPerEvent)
        #expect(long[field: "truncated"] == "true", "216 arguments do not fit in 64 fields: said so")
        #expect(long[field: "a0"] == "/usr/bin/m4")
        #expect(long[field: "a215"] == nil)
        // The command line keeps every argument: it is one field.
        #expect(long[field: "command"]?.hasSuffix("/usr/share/aclocal-1.16/tar.m4 configure.ac") == true)
        #expect(Set(records.compactMap { $0[field: "audit_serial"] }) == ["25618", "27091"])
    }

    // MARK: - Enriched logs and other hosts' forms

    /// `log_format = ENRICHED` (auditd.conf(5)): auditd appends the names it resolved after a 0x1D byte. Records of
    /// an Ubuntu 22.04 host published in https://qiita.com/ohtsuka-shota/items/c1c2544e46d44006cc04 (2025-01-29); the
    /// published copy lost the invisible 0x1D, put back here where auditd writes it.
    static let enriched = [
        #"type=USER_AUTH msg=audit(1738140096.263:742): pid=73783 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:authentication grantors=pam_permit,pam_cap acct="shota" exe="/usr/sbin/sshd" hostname=192.168.0.24 addr=192.168.0.24 terminal=ssh res=success'\#u{1D}UID="root" AUID="unset""#,
        #"type=LOGIN msg=audit(1738140096.338:745): pid=73783 uid=0 subj=unconfined old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=330 res=1\#u{1D}UID="root" OLD-AUID="unset" AUID="shota""#,
        #"type=SYSCALL msg=audit(1738140096.338:745): arch=c000003e syscall=1 success=yes exit=4 a0=3 a1=7ffdeb9982d0 a2=4 a3=0 items=0 ppid=73718 pid=73783 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=330 comm="sshd" exe="/usr/sbin/sshd" subj=unconfined key=(null)\#u{1D}ARCH=x86_64 SYSCALL=write AUID="shota" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root""#,
    ]

    @Test func enrichedNamesNameTheUser() {
        let records = Self.enriched.map(Self.parse)
        let auth = records[0]
        #expect(auth[field: "user"] == "shota", "acct= of a user-space record")
        #expect(auth[field: "src_ip"] == "192.168.0.24")
        #expect(auth[field: "program"] == "sshd")
        #expect(auth[field: "outcome"] == "success")
        #expect(auth[field: "UID"] == "root")
        #expect(auth[field: "AUID"] == "unset")
        #expect(auth[field: "res"] == "success", "the quote closing msg='…' is not part of the value")
        let login = records[1]
        #expect(login[field: "user"] == "shota", "the enriched AUID")
        #expect(login[field: "old-auid"] == "4294967295")
        #expect(login[field: "res"] == "1")
        #expect(login[field: "outcome"] == "success")
        let syscall = records[2]
        #expect(syscall[field: "user"] == "shota")
        #expect(syscall[field: "SYSCALL"] == "write")
        #expect(syscall[field: "key"] == "(null)")
        #expect(syscall[field: "auid"] == "1000", "the number stays beside the name")
        #expect(syscall[field: "FSGID"] == "root")
        // Without the enrichment, no name: only the numbers auditd wrote.
        let plain = Self.parse(String(Self.enriched[2].split(separator: "\u{1D}")[0]))
        #expect(plain[field: "user"] == nil)
        #expect(plain[field: "SYSCALL"] == nil)
    }

    /// Forms older hosts wrote: RHEL 5's PAM text (the Linux Audit project's auparse test.log,
    /// https://github.com/linux-audit/audit-userspace/blob/d1ccd8f642e11ad65cdc8c7091e8ef0304a3fd3d/auparse/test/test.log),
    /// and a RHEL 7 daemon record without the colon after its stamp (Filebeat's audit-rhel7.log fixture).
    @Test func olderForms() {
        let start = Self.parse(
            #"type=USER_START msg=audit(1170021601.344:297): user pid=13015 uid=0 auid=0 subj=system_u:system_r:crond_t:s0-s0:c0.c1023 msg='PAM: session open acct=root : exe="/usr/sbin/crond" (hostname=?, addr=?, terminal=cron res=success)'"#
        )
        // auparse reads the same pairs (auparse_test.ref of that commit).
        #expect(start[field: "acct"] == "root")
        #expect(start[field: "user"] == "root")
        #expect(start[field: "hostname"] == "?")
        #expect(start[field: "addr"] == "?")
        #expect(start[field: "terminal"] == "cron")
        #expect(start[field: "res"] == "success")
        #expect(start[field: "outcome"] == "success")
        #expect(start[field: "program"] == "crond")
        let config = Self.parse(
            #"type=DAEMON_CONFIG msg=audit(1490239800.477:34) config changed, auid=0 pid=1512 subj=system_u:system_r:unconfined_service_t:s0 res=success"#
        )
        #expect(config.timeNanos == 1_490_239_800_477_000_000)
        #expect(config[field: "audit_serial"] == "34")
        #expect(config[field: "auid"] == "0")
        #expect(config[field: "res"] == "success")
        let unknown = Self.parse("type=UNKNOWN[1329] msg=g")
        #expect(unknown.format == .audit)
        #expect(unknown.timeNanos == nil)
        #expect(unknown[field: "audit_type"] == "UNKNOWN[1329]")
        let node = Self.parse(#"node=ws-602 type=CWD msg=audit(1364481363.243:24287):  cwd="/home/shadowman""#)
        #expect(node[field: "node"] == "ws-602")
        #expect(node[field: "audit_type"] == "CWD")
        #expect(node[field: "cwd"] == "/home/shadowman")
    }

    // MARK: - Hostile input

    @Test func anEXECVEOf500ArgumentsStaysWithinTheLimits() {
        let arguments = (0..<500).map { #"a\#($0)="arg\#($0)""# }.joined(separator: " ")
        let parsed = Self.parse("type=EXECVE msg=audit(1700000000.001:9): argc=500 " + arguments)
        Self.expectWithinLimits(parsed, "500 arguments")
        #expect(parsed.fields.count == WireLimits.maxFieldsPerEvent)
        #expect(parsed[field: "truncated"] == "true")
        #expect(parsed[field: "argc"] == "500")
        #expect(parsed[field: "command"]?.hasSuffix("arg498 arg499") == true)

        // One argument longer than a value may be: cut, and said so.
        let long = String(repeating: "41", count: 20_000)
        let cut = Self.parse("type=EXECVE msg=audit(1700000000.001:9): argc=2 a0=\"ls\" a1=" + long)
        Self.expectWithinLimits(cut, "a 20,000-byte argument")
        #expect(cut[field: "truncated"] == "true")
        #expect(cut[field: "command"]?.utf8.count == WireLimits.maxFieldValueLength)
        #expect(cut[field: "command"]?.hasPrefix("ls AAAA") == true)
    }

    @Test(
        arguments: [
            // Odd-length and cut hex: kept as written.
            ("type=EXECVE msg=audit(1.5:1): argc=1 a0=6C7", "a0", "6C7"),
            ("type=PROCTITLE msg=audit(1.5:1): proctitle=2F62696E2F", "proctitle", "/bin/"),
            ("type=PROCTITLE msg=audit(1.5:1): proctitle=2F62696E2G", "proctitle", "2F62696E2G"),
            // Hex that is not UTF-8: kept in hex.
            ("type=CWD msg=audit(1.5:1): cwd=FFFE", "cwd", "FFFE"),
            // An unterminated quote: the pairs before it stand.
            ("type=SYSCALL msg=audit(1.5:1): pid=7 comm=\"cat exe=\"/bin/cat", "pid", "7"),
            ("type=USER_LOGIN msg=audit(1.5:1): pid=7 msg='op=login acct=\"root\" res=failed", "res", "failed"),
            // Hex keys outside EXECVE are not arguments.
            ("type=SYSCALL msg=audit(1.5:1): a0=4142", "a0", "4142"),
            // A stamp without a serial: no time, the rest still read.
            ("type=SYSCALL msg=audit(1.5): pid=7", "pid", "7"),
        ] as [(String, String, String)]
    )
    func badInputYieldsFewerFields(line: String, key: String, value: String) {
        let parsed = Self.parse(line)
        #expect(parsed.format == .audit)
        #expect(parsed[field: key] == value, "\(line): \(parsed.fields)")
    }

    @Test func tenMegabyteLinesDoNotCrash() async {
        await offThePool {
            let huge = String(repeating: "A1", count: 5_000_000)
            for line in [
                "type=PROCTITLE msg=audit(1700000000.001:9): proctitle=" + huge,
                "type=EXECVE msg=audit(1700000000.001:9): argc=1 a0=\"" + huge,
                "type=USER_CMD msg=audit(1700000000.001:9): msg='cmd=" + huge,
                "type=SYSCALL msg=audit(1700000000.001:9): " + String(repeating: "k=v ", count: 2_500_000) + "res=1",
            ] {
                let parsed = Self.parse(line)
                Self.expectWithinLimits(parsed, String(line.prefix(60)))
                #expect(parsed[field: "audit_serial"] == "9")
            }
            let pairs = Self.parse(
                "type=SYSCALL msg=audit(1700000000.001:9): " + String(repeating: "k=v ", count: 1_000) + "res=1"
            )
            #expect(pairs[field: "res"] == "1", "an essential pair after the limit is still kept")
            #expect(pairs[field: "outcome"] == "success")
            #expect(pairs[field: "truncated"] == "true")
        }
    }

    @Test func arbitraryBytesAfterTypeNeverCrash() {
        var random = SeededRandom(state: 23)
        let alphabet =
            Array(#"type= msg=audit(1.2:3):'"\ a0=41 aB=C0 (x=y, 0123456789ABCDEF"#.utf8) + [0x1D, 0xFF, 0x00]
        for _ in 0..<3_000 {
            let length = Int(random.next() % 120)
            let line =
                Array("type=EXECVE ".utf8)
                + (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            let parsed = Self.parser.parse(line, observedNanos: 0)
            Self.expectWithinLimits(parsed, "\(line)")
        }
    }

    @Test func otherLinesAreNotAuditRecords() {
        #expect(Self.parse("typed text without a record").format == .raw)
        #expect(Self.parse("node 4 is down").format == .raw)
        #expect(Self.parse(#"{"type":"EXECVE"}"#).format == .json)
        #expect(
            Self.parse("Nov 24 10:00:00 ws-1 sshd[1]: Accepted password for mchen from 203.0.113.7 port 1 ssh2").format
                == .rfc3164
        )
    }
}

@Suite("auditd's records carried by syslog")
struct AuditSyslogTests {
    static func parse(_ line: String) -> ParsedLine {
        AuditRecordTests.parser.parse(Array(line.utf8), observedNanos: 1_587_404_600_000_000_000)
    }

    /// The kernel's own audit messages, as AppArmor's log parser tests quote one (apparmor/apparmor,
    /// `utils/test/test-logparser.py` at 74d40ce26fa3bac212e6aeff074ebd7af740da78, from
    /// https://bugs.launchpad.net/apparmor/+bug/1399027).
    @Test func theKernelsAppArmorRecord() {
        let parsed = Self.parse(
            #"Dec  7 13:18:59 rosa kernel: audit: type=1400 audit(1417954745.397:82): apparmor="ALLOWED" operation="open" profile="/home/simi/bin/aa-test" name="/usr/bin/" pid=3231 comm="ls" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0"#
        )
        #expect(parsed.format == .rfc3164)
        #expect(parsed.timeNanos == 1_417_954_745_397_000_000, "the record's own time, with its year")
        #expect(parsed[field: "hostname"] == "rosa")
        #expect(parsed[field: "program"] == "kernel", "the syslog tag stays the program")
        #expect(parsed[field: "audit_type"] == "AVC", "type 1400 named")
        #expect(parsed[field: "audit_serial"] == "82")
        #expect(parsed[field: "apparmor"] == "ALLOWED")
        #expect(parsed[field: "profile"] == "/home/simi/bin/aa-test")
        #expect(parsed[field: "comm"] == "ls")
        #expect(parsed[field: "requested_mask"] == "r")
    }

    /// audispd's syslog plugin, as a host wrote it to /var/log/messages (linux-audit mailing list, "Re: Help to
    /// understand audit messages", Alok Jain, 2020-04-20; the mail wrapped the line, joined again here).
    @Test func audispdsRecord() {
        let parsed = Self.parse(
            #"Apr 20 17:42:44 mylinux audispd: node=mylinux type=EXECVE msg=audit(1587404564.745:5901346): argc=4 a0="mount" a1="-v" a2="UUID=b1d54239-2b18-44b3-a4bf-5e0ca32b8f78" a3="/tmp/aj/m1""#
        )
        #expect(parsed.timeNanos == 1_587_404_564_745_000_000)
        #expect(parsed[field: "program"] == "audispd")
        #expect(parsed[field: "node"] == "mylinux")
        #expect(parsed[field: "audit_type"] == "EXECVE")
        #expect(parsed[field: "audit_serial"] == "5901346")
        #expect(parsed[field: "command"] == "mount -v UUID=b1d54239-2b18-44b3-a4bf-5e0ca32b8f78 /tmp/aj/m1")
    }

    /// rsyslog escapes the enrichment separator as `#035` (its default `$EscapeControlCharactersOnReceive`). Written
    /// here in that form, not copied from a host: the syslog header and the record's start are those of a published
    /// `audisp-syslog` line, the pairs after `exit=0` shortened and the enrichment added.
    @Test func rsyslogsEscapedSeparator() {
        let parsed = Self.parse(
            ##"Aug 28 19:03:26 web audisp-syslog: type=SYSCALL msg=audit(1724871806.719:135): arch=c000003e syscall=268 success=yes exit=0 auid=1000 uid=0 comm="chmod" exe="/usr/bin/chmod" key="nginx_conf_changes"#035ARCH=x86_64 SYSCALL=fchmodat AUID="vagrant" UID="root""##
        )
        #expect(parsed[field: "key"] == "nginx_conf_changes")
        #expect(parsed[field: "AUID"] == "vagrant")
        #expect(parsed[field: "user"] == "vagrant")
        #expect(parsed[field: "program"] == "audisp-syslog")
    }

    @Test func otherSyslogMessagesAreUntouched() {
        let ufw = Self.parse(
            "Nov 24 10:00:00 ws-1 kernel: [ 1234.567890] UFW BLOCK IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.5 LEN=60"
        )
        #expect(ufw[field: "audit_type"] == nil)
        #expect(ufw.timeNanos != nil)
        let kernel = Self.parse(
            "Nov 24 10:00:00 ws-1 kernel: [ 1234.567890] audit: type=1400 audit(1795500000.123:7): apparmor=\"DENIED\""
        )
        #expect(kernel[field: "audit_type"] == "AVC")
        #expect(kernel[field: "apparmor"] == "DENIED")
        #expect(kernel.timeNanos == 1_795_500_000_123_000_000)
    }
}

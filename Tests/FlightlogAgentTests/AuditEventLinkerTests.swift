import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogAgent

/// The records of one audit event linked into views (process creation, network connection, file creation), on real
/// `audit.log` records: Filebeat's RHEL 7 host (`Tests/Fixtures/auditd/filebeat-audit-rhel7.log`), the Linux Audit
/// project's `audit-userspace-test4.log` (see `Tests/Fixtures/auditd/README.md`), and Wazuh's documented example of a
/// file created under a watch (serial 50, `touch` creating `malware.py`: the sample of Wazuh's auditd rule 80790,
/// "Audit: Created", as its ruleset documentation and tests give it, one record a line as auditd writes them).
@Suite("Audit records linked into views")
struct AuditEventLinkerTests {
    static let source = "/var/log/audit/audit.log"

    static let wazuhCreate = [
        #"type=SYSCALL msg=audit(1479982525.380:50): arch=c000003e syscall=2 success=yes exit=3 a0=7ffedc40d83b a1=941 a2=1b6 a3=7ffedc40cce0 items=2 ppid=432 pid=3333 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=2 comm="touch" exe="/bin/touch" key="audit-wazuh-w""#,
        #"type=CWD msg=audit(1479982525.380:50):  cwd="/var/log/audit""#,
        #"type=PATH msg=audit(1479982525.380:50): item=0 name="/var/log/audit/tmp_directory1/" inode=399849 dev=ca:02 mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT"#,
        #"type=PATH msg=audit(1479982525.380:50): item=1 name="/var/log/audit/tmp_directory1/malware.py" inode=399852 dev=ca:02 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=CREATE"#,
        #"type=PROCTITLE msg=audit(1479982525.380:50): proctitle=746F756368002F7661722F6C6F672F61756469742F746D705F6469726563746F7279312F6D616C776172652E7079"#,
    ]

    static func fixture(_ name: String) throws -> [[UInt8]] {
        let raw = try Data(contentsOf: RepositoryFiles.fixtures.appendingPathComponent("auditd/\(name)"))
        return raw.split(separator: UInt8(ascii: "\n")).map { Array($0) }
    }

    /// Parses and links the lines in order, as the collector does; one field list per line.
    static func linked(_ lines: [[UInt8]], linker: inout AuditEventLinker) -> [[String: String]] {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        return lines.map { line in
            let parsed = parser.parse(line, observedNanos: 0)
            var fields = parsed.fields
            if parsed.format == .audit { linker.link(&fields, line: line, source: Self.source) }
            return Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
    }

    static func linked(_ lines: [[UInt8]]) -> [[String: String]] {
        var linker = AuditEventLinker()
        return Self.linked(lines, linker: &linker)
    }

    /// One process-creation view per successful exec of the RHEL 7 log, on its CWD record, with the executable of
    /// the SYSCALL record and the command line of the EXECVE record together; every record stays an event.
    @Test func everySuccessfulExecBecomesOneProcessCreationView() throws {
        let lines = try Self.fixture("filebeat-audit-rhel7.log")
        let events = Self.linked(lines)
        #expect(events.count == lines.count)
        let views = events.filter { $0["audit_view"] == "process_creation" }
        // The truth, read from the text: serials with an EXECVE and a CWD record whose SYSCALL says success=yes.
        // The log's last exec (serial 904, consoletype) is cut after its EXECVE record: a half event, no view.
        let text = lines.map { String(decoding: $0, as: UTF8.self) }
        func serial(_ line: String) -> Substring? {
            guard let open = line.range(of: "msg=audit("), let colon = line[open.upperBound...].firstIndex(of: ":"),
                let close = line[colon...].firstIndex(of: ")")
            else { return nil }
            return line[line.index(after: colon)..<close]
        }
        let succeeded = Set(
            text.filter { $0.hasPrefix("type=SYSCALL") && $0.contains(" success=yes ") }.compactMap(serial)
        )
        let execs = Set(text.filter { $0.hasPrefix("type=EXECVE") }.compactMap(serial)).intersection(succeeded)
            .intersection(text.filter { $0.hasPrefix("type=CWD") }.compactMap(serial))
        #expect(execs.count == 185 && !execs.contains("904"))
        #expect(views.count == execs.count)
        #expect(Set(views.compactMap { $0["audit_serial"] }) == Set(execs.map(String.init)))
        #expect(views.allSatisfy { $0["audit_type"] == "CWD" && $0["exe"] != nil && $0["command"] != nil })

        let curl = try #require(views.first { $0["audit_serial"] == "689" })
        #expect(curl["exe"] == "/usr/bin/curl")
        #expect(curl["command"] == "curl elastic.co")
        #expect(curl["cwd"] == "/home/some_user")
        #expect(curl["pid"] == "1550")
        #expect(curl["ppid"] == "1446")
        #expect(curl["auid"] == "1000")
        #expect(curl["uid"] == "0")
        #expect(curl["program"] == "curl")
        #expect(curl["outcome"] == "success")
        // pid 1446 exec'd bash earlier in the same log.
        #expect(curl["parent_exe"] == "/usr/bin/bash")
        #expect(curl["parent_command"] != nil)
        // The SYSCALL and EXECVE records are unchanged: neither has what the other holds.
        let records = events.filter { $0["audit_serial"] == "689" && $0["audit_view"] == nil }
        #expect(
            records.contains { $0["audit_type"] == "SYSCALL" && $0["exe"] == "/usr/bin/curl" && $0["command"] == nil }
        )
        #expect(records.contains { $0["audit_type"] == "EXECVE" && $0["exe"] == nil })
        // A failed exec (serial 483, /usr/local/sbin/ip: ENOENT) has no view: its exe would be the caller's.
        #expect(!views.contains { $0["audit_serial"] == "483" })
        // sshd's re-exec of itself (pid 1397) is the parent of unix_chkpwd.
        #expect(views.first { $0["audit_serial"] == "493" }?["parent_exe"] == "/usr/sbin/sshd")
    }

    /// Long command lines (48 and 216 arguments) on aarch64-built RPM tooling: the view's command is the EXECVE
    /// record's; parents not seen in the log are not made up.
    @Test func longCommandLinesAndUnknownParents() throws {
        let events = Self.linked(try Self.fixture("audit-userspace-test4.log"))
        let views = events.filter { $0["audit_view"] == "process_creation" }
        #expect(views.count == 2)
        #expect(views.first?["command"]?.hasPrefix("/bin/sh -efu /usr/bin/ld -plugin ") == true)
        #expect(views.last?["command"]?.hasPrefix("/usr/bin/m4 --nesting-limit=1024 ") == true)
        #expect(views.last?["cwd"] == "/usr/src/RPM/BUILD/zlib-1.2.11-alt1/contrib/minizip")
        #expect(views.allSatisfy { $0["parent_exe"] == nil && $0["parent_command"] == nil })
        #expect(views.allSatisfy { $0.count <= WireLimits.maxFieldsPerEvent })
    }

    /// connect: the SOCKADDR record carries the destination when the family is IPv4 or IPv6 and the connect
    /// succeeded or is in progress; Unix sockets, AF_UNSPEC and unreachable networks give no view.
    @Test func connectsBecomeNetworkConnectionViews() throws {
        let events = Self.linked(try Self.fixture("filebeat-audit-rhel7.log"))
        let views = events.filter { $0["audit_view"] == "network_connection" }
        let dns = try #require(views.first { $0["audit_serial"] == "692" })
        #expect(dns["dst_ip"] == "169.254.169.254")
        #expect(dns["dst_port"] == "53")
        #expect(dns["initiated"] == "true")
        #expect(dns["exe"] == "/usr/bin/curl")
        #expect(dns["pid"] == "1551")
        #expect(dns["audit_type"] == "SOCKADDR")
        // In progress (EINPROGRESS, non-blocking): Google's metadata agent in Python, to port 80.
        let metadata = try #require(views.first { $0["audit_serial"] == "688" })
        #expect(metadata["dst_port"] == "80")
        #expect(metadata["exe"] == "/usr/bin/python2.7")
        // A Unix socket (690), ENETUNREACH over IPv6 (693), AF_UNSPEC (694).
        for serial in ["690", "693", "694"] { #expect(!views.contains { $0["audit_serial"] == serial }) }
        #expect(views.allSatisfy { $0["dst_ip"] != nil && $0["dst_port"] != nil })
        #expect(!views.contains { $0["exe"] == "/usr/bin/bash" })
    }

    @Test(arguments: [
        ("02000035A9FEA9FE0000000000000000", "169.254.169.254", 53),
        ("0A000050000000002406DA00FF00000000000000171569CC00000000", "2406:da00:ff00::1715:69cc", 80),
        ("0A0001BB0000000000000000000000000000FFFFC000020100000000", "192.0.2.1", 443),
        ("0A000016000000000000000000000000000000000000000100000000", "::1", 22),
    ])
    func socketAddresses(hex: String, ip: String, port: Int) {
        #expect(AuditRecord.SocketAddress(hex: hex) == AuditRecord.SocketAddress(ip: ip, port: UInt16(port)))
    }

    @Test(arguments: ["01002F7661722F72756E2F6E7363642F736F636B6574", "00000000000000000000000000000000", "0200", "zz"])
    func socketAddressesWithoutANetworkAddress(hex: String) {
        #expect(AuditRecord.SocketAddress(hex: hex) == nil)
    }

    /// A file created under a watch: the CREATE PATH record carries the path and who created it; the PARENT one
    /// does not.
    @Test func aCreatedFileBecomesAFileEventView() {
        let events = Self.linked(Self.wazuhCreate.map { Array($0.utf8) })
        let views = events.filter { $0["audit_view"] == "file_event" }
        #expect(views.count == 1)
        #expect(views.first?["path"] == "/var/log/audit/tmp_directory1/malware.py")
        #expect(views.first?["exe"] == "/bin/touch")
        #expect(views.first?["key"] == "audit-wazuh-w")
        #expect(views.first?["nametype"] == "CREATE")
        // A relative name is read against the event's CWD.
        let relative = Self.wazuhCreate.map {
            $0.replacingOccurrences(of: #"name="/var/log/audit/tmp_directory1/malware.py""#, with: #"name="x/m.py""#)
        }
        let view = Self.linked(relative.map { Array($0.utf8) }).first { $0["audit_view"] == "file_event" }
        #expect(view?["path"] == "/var/log/audit/x/m.py")
    }

    /// A half event at a file's end: SYSCALL and EXECVE read, the CWD not yet written. Nothing is made up; when the
    /// CWD comes the view is complete. A linker that did not see the first records (the agent restarted between
    /// them) makes no view of the rest.
    @Test func aHalfEventWaitsForItsRecordsAndARestartLosesIt() throws {
        let lines = try Self.fixture("filebeat-audit-rhel7.log").filter {
            String(decoding: $0, as: UTF8.self).contains(":689):")
        }
        #expect(lines.count == 5)
        var linker = AuditEventLinker()
        let head = Self.linked(Array(lines.prefix(2)), linker: &linker)
        #expect(head.allSatisfy { $0["audit_view"] == nil })
        let tail = Self.linked(Array(lines.dropFirst(2)), linker: &linker)
        #expect(tail.filter { $0["audit_view"] == "process_creation" }.count == 1)
        var restarted = AuditEventLinker()
        #expect(Self.linked(Array(lines.dropFirst(2)), linker: &restarted).allSatisfy { $0["audit_view"] == nil })
    }

    /// Records of two events interleaved (two CPUs finishing syscalls together), and the same serial from two
    /// files or two nodes, stay apart.
    @Test func interleavedEventsAndStreamsStayApart() throws {
        let all = try Self.fixture("filebeat-audit-rhel7.log").map { String(decoding: $0, as: UTF8.self) }
        let curl = all.filter { $0.contains(":689):") }
        let grep = all.filter { $0.contains(":513):") }
        #expect(curl.count == 5 && grep.count >= 3)
        let interleaved = [curl[0], grep[0], curl[1], grep[1], grep[2], curl[2]].map { Array($0.utf8) }
        let views = Self.linked(interleaved).filter { $0["audit_view"] == "process_creation" }
        #expect(views.map { $0["exe"] } == ["/usr/bin/grep", "/usr/bin/curl"])
        #expect(views.last?["command"] == "curl elastic.co")

        var linker = AuditEventLinker()
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        func link(_ line: String, source: String) -> [Event.Field] {
            var fields = parser.parse(Array(line.utf8), observedNanos: 0).fields
            linker.link(&fields, line: Array(line.utf8), source: source)
            return fields
        }
        _ = link(curl[0], source: "/a.log")
        _ = link(curl[1], source: "/a.log")
        #expect(!link(curl[2], source: "/b.log").contains { $0.key == "audit_view" })
        _ = link("node=h1 " + curl[0], source: "/a.log")
        _ = link("node=h1 " + curl[1], source: "/a.log")
        #expect(!link("node=h2 " + curl[2], source: "/a.log").contains { $0.key == "audit_view" })
        #expect(link("node=h1 " + curl[2], source: "/a.log").contains { $0.key == "audit_view" })
    }
}

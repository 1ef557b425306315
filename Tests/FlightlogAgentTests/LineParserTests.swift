import FlightlogAgent
import FlightlogWire
import Foundation
import Testing

/// Epoch nanoseconds of an ISO 8601 timestamp with zone, computed by Foundation independently of the parser
/// (the fraction is added by hand: the formatter keeps only milliseconds).
func isoNanos(_ text: String) -> Int64? {
    var whole = text
    var fractionNanos: Int64 = 0
    if let dot = text.firstIndex(of: ".") {
        let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
        let padded = (digits + String(repeating: "0", count: 9)).prefix(9)
        fractionNanos = Int64(padded) ?? 0
        whole = String(text[..<dot]) + String(text[text.index(after: dot)...].dropFirst(digits.count))
    }
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: whole) else { return nil }
    return Int64(date.timeIntervalSince1970) * 1_000_000_000 + fractionNanos
}

/// One table row: a real-world line and everything the parser must find in it.
struct ParserCase: Sendable, CustomTestStringConvertible {
    var line: String
    var format: LineFormat
    var time: String?
    var fields: [String: String]

    var testDescription: String { self.line }
}

/// The observed time of every table row: 2026-11-24T12:00:00Z.
let observed: Int64 = 1_795_521_600 * 1_000_000_000

@Suite struct LineParserTests {
    let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)

    static let syslogCases: [ParserCase] = [
        ParserCase(
            line:
                #"<34>1 2026-11-24T10:00:00.123Z host app 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] \#u{FEFF}msg"#,
            format: .rfc5424,
            time: "2026-11-24T10:00:00.123Z",
            fields: [
                "facility": "auth", "severity": "crit", "hostname": "host", "program": "app", "pid": "1234",
                "msgid": "ID47", "sd.exampleSDID@32473.iut": "3", "sd.exampleSDID@32473.eventSource": "Application",
                "message": "msg",
            ]
        ),
        ParserCase(
            line: "<165>1 2003-10-11T22:14:15.003-07:00 mymachine.example.com evntslog - ID47 - An application event",
            format: .rfc5424,
            time: "2003-10-11T22:14:15.003-07:00",
            fields: [
                "facility": "local4", "severity": "notice", "hostname": "mymachine.example.com",
                "program": "evntslog", "msgid": "ID47", "message": "An application event",
            ]
        ),
        ParserCase(
            line: #"<13>1 - - - - - [x@1 k="a\"b\]c\\d" e=""][y@2 z="1"] tail"#,
            format: .rfc5424,
            time: nil,
            fields: [
                "facility": "user", "severity": "notice", "sd.x@1.k": #"a"b]c\d"#, "sd.x@1.e": "", "sd.y@2.z": "1",
                "message": "tail",
            ]
        ),
        ParserCase(
            line:
                "<86>1 2026-11-24T10:00:00.000001+01:00 ws-602 sshd 811 - - Accepted publickey for mchen from 203.0.113.77 port 52113 ssh2: ED25519 SHA256:abc",
            format: .rfc5424,
            time: "2026-11-24T09:00:00.000001Z",
            fields: [
                "facility": "authpriv", "severity": "info", "hostname": "ws-602", "program": "sshd", "pid": "811",
                "message": "Accepted publickey for mchen from 203.0.113.77 port 52113 ssh2: ED25519 SHA256:abc",
                "action": "login", "outcome": "success", "auth_method": "publickey", "user": "mchen",
                "src_ip": "203.0.113.77", "src_port": "52113",
            ]
        ),
        ParserCase(
            line: "<13>Nov 24 10:00:00 host prog[123]: msg",
            format: .rfc3164,
            time: "2026-11-24T10:00:00Z",
            fields: [
                "facility": "user", "severity": "notice", "hostname": "host", "program": "prog", "pid": "123",
                "message": "msg",
            ]
        ),
        ParserCase(
            line: "<30>Nov  4 09:05:01 backup: started",
            format: .rfc3164,
            time: "2026-11-04T09:05:01Z",
            fields: ["facility": "daemon", "severity": "info", "program": "backup", "message": "started"]
        ),
        ParserCase(
            line: "2026-11-24T10:00:00.123456+01:00 host prog[123]: msg with: colon",
            format: .rfc3164,
            time: "2026-11-24T09:00:00.123456Z",
            fields: ["hostname": "host", "program": "prog", "pid": "123", "message": "msg with: colon"]
        ),
        ParserCase(
            line: "Nov 24 10:00:00 ws-602 kernel: [ 12.345] usb 1-1: new device",
            format: .rfc3164,
            time: "2026-11-24T10:00:00Z",
            fields: ["hostname": "ws-602", "program": "kernel", "message": "[ 12.345] usb 1-1: new device"]
        ),
        ParserCase(
            line: "Nov 24 10:00:00 ws-602 -- MARK --",
            format: .rfc3164,
            time: "2026-11-24T10:00:00Z",
            fields: ["hostname": "ws-602", "message": "-- MARK --"]
        ),
    ]

    static let authCases: [ParserCase] = [
        ParserCase(
            line: "Nov 24 10:00:00 ws-602 sshd[4242]: Accepted password for mchen from 203.0.113.77 port 52113 ssh2",
            format: .rfc3164,
            time: "2026-11-24T10:00:00Z",
            fields: [
                "hostname": "ws-602", "program": "sshd", "pid": "4242",
                "message": "Accepted password for mchen from 203.0.113.77 port 52113 ssh2",
                "action": "login", "outcome": "success", "auth_method": "password", "user": "mchen",
                "src_ip": "203.0.113.77", "src_port": "52113",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:00:01 ws-602 sshd[4243]: Failed password for invalid user admin from 198.51.100.9 port 4242 ssh2",
            format: .rfc3164,
            time: "2026-11-24T10:00:01Z",
            fields: [
                "hostname": "ws-602", "program": "sshd", "pid": "4243",
                "message": "Failed password for invalid user admin from 198.51.100.9 port 4242 ssh2",
                "action": "login", "outcome": "failure", "auth_method": "password", "user": "admin",
                "src_ip": "198.51.100.9", "src_port": "4242",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:00:02 ws-602 sshd[4244]: Failed keyboard-interactive/pam for root from 2001:db8::7 port 22 ssh2",
            format: .rfc3164,
            time: "2026-11-24T10:00:02Z",
            fields: [
                "hostname": "ws-602", "program": "sshd", "pid": "4244",
                "message": "Failed keyboard-interactive/pam for root from 2001:db8::7 port 22 ssh2",
                "action": "login", "outcome": "failure", "auth_method": "keyboard-interactive", "user": "root",
                "src_ip": "2001:db8::7", "src_port": "22",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:00:03 ws-602 sshd[4245]: Invalid user x from 198.51.100.9 port 4243",
            format: .rfc3164,
            time: "2026-11-24T10:00:03Z",
            fields: [
                "hostname": "ws-602", "program": "sshd", "pid": "4245",
                "message": "Invalid user x from 198.51.100.9 port 4243",
                "action": "login", "outcome": "failure", "user": "x", "src_ip": "198.51.100.9", "src_port": "4243",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:30:00 ws-602 sshd[4242]: Disconnected from user mchen 203.0.113.77 port 52113",
            format: .rfc3164,
            time: "2026-11-24T10:30:00Z",
            fields: [
                "hostname": "ws-602", "program": "sshd", "pid": "4242",
                "message": "Disconnected from user mchen 203.0.113.77 port 52113",
                "action": "logout", "user": "mchen", "src_ip": "203.0.113.77", "src_port": "52113",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:00:00 ws-602 sshd[4242]: pam_unix(sshd:session): session opened for user mchen(uid=1001) by (uid=0)",
            format: .rfc3164,
            time: "2026-11-24T10:00:00Z",
            fields: [
                "hostname": "ws-602", "program": "sshd", "pid": "4242",
                "message": "pam_unix(sshd:session): session opened for user mchen(uid=1001) by (uid=0)",
                "pam_module": "pam_unix",
                "action": "session_open", "user": "mchen",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:05:00 ws-602 sudo:    mchen : TTY=pts/0 ; PWD=/home/mchen ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
            format: .rfc3164,
            time: "2026-11-24T10:05:00Z",
            fields: [
                "hostname": "ws-602", "program": "sudo",
                "message": "   mchen : TTY=pts/0 ; PWD=/home/mchen ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
                "action": "sudo", "outcome": "success", "user": "mchen", "tty": "pts/0", "target_user": "root",
                "command": "/usr/bin/cat /etc/shadow",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:05:09 ws-602 sudo:    mchen : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/mchen ; USER=root ; COMMAND=/usr/bin/id",
            format: .rfc3164,
            time: "2026-11-24T10:05:09Z",
            fields: [
                "hostname": "ws-602", "program": "sudo",
                "message":
                    "   mchen : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/mchen ; USER=root ; COMMAND=/usr/bin/id",
                "action": "sudo", "outcome": "failure", "user": "mchen", "tty": "pts/0", "target_user": "root",
                "command": "/usr/bin/id",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:05:01 ws-602 sudo: pam_unix(sudo:auth): authentication failure; logname=mchen uid=1001 euid=0 tty=/dev/pts/0 ruser=mchen rhost=  user=mchen",
            format: .rfc3164,
            time: "2026-11-24T10:05:01Z",
            fields: [
                "hostname": "ws-602", "program": "sudo",
                "message":
                    "pam_unix(sudo:auth): authentication failure; logname=mchen uid=1001 euid=0 tty=/dev/pts/0 ruser=mchen rhost=  user=mchen",
                "action": "sudo", "outcome": "failure", "user": "mchen", "tty": "/dev/pts/0", "pam_module": "pam_unix",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:06:00 ws-602 su[5001]: (to root) mchen on pts/1",
            format: .rfc3164,
            time: "2026-11-24T10:06:00Z",
            fields: [
                "hostname": "ws-602", "program": "su", "pid": "5001", "message": "(to root) mchen on pts/1",
                "action": "su", "outcome": "success", "target_user": "root", "user": "mchen", "tty": "pts/1",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:06:01 ws-602 su[5002]: FAILED su for root by mchen",
            format: .rfc3164,
            time: "2026-11-24T10:06:01Z",
            fields: [
                "hostname": "ws-602", "program": "su", "pid": "5002", "message": "FAILED su for root by mchen",
                "action": "su", "outcome": "failure", "target_user": "root", "user": "mchen",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:06:02 ws-602 su[5001]: pam_unix(su:session): session opened for user root(uid=0) by mchen(uid=1001)",
            format: .rfc3164,
            time: "2026-11-24T10:06:02Z",
            fields: [
                "hostname": "ws-602", "program": "su", "pid": "5001",
                "message": "pam_unix(su:session): session opened for user root(uid=0) by mchen(uid=1001)",
                "pam_module": "pam_unix",
                "action": "su", "outcome": "success", "user": "mchen", "target_user": "root",
            ]
        ),
        ParserCase(
            line:
                "Nov 24 10:07:00 ws-602 login[900]: FAILED LOGIN (1) on '/dev/tty2' FOR 'mchen', Authentication failure",
            format: .rfc3164,
            time: "2026-11-24T10:07:00Z",
            fields: [
                "hostname": "ws-602", "program": "login", "pid": "900",
                "message": "FAILED LOGIN (1) on '/dev/tty2' FOR 'mchen', Authentication failure",
                "action": "login", "outcome": "failure", "tty": "/dev/tty2", "user": "mchen",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:07:05 ws-602 login[901]: ROOT LOGIN  on '/dev/tty1'",
            format: .rfc3164,
            time: "2026-11-24T10:07:05Z",
            fields: [
                "hostname": "ws-602", "program": "login", "pid": "901", "message": "ROOT LOGIN  on '/dev/tty1'",
                "action": "login", "outcome": "success", "user": "root", "tty": "/dev/tty1",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:08:00 ws-602 passwd[777]: pam_unix(passwd:chauthtok): password changed for mchen",
            format: .rfc3164,
            time: "2026-11-24T10:08:00Z",
            fields: [
                "hostname": "ws-602", "program": "passwd", "pid": "777",
                "message": "pam_unix(passwd:chauthtok): password changed for mchen",
                "pam_module": "pam_unix",
                "action": "password_change", "outcome": "success", "user": "mchen",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:09:00 ws-602 systemd-logind[612]: New session 12 of user mchen.",
            format: .rfc3164,
            time: "2026-11-24T10:09:00Z",
            fields: [
                "hostname": "ws-602", "program": "systemd-logind", "pid": "612",
                "message": "New session 12 of user mchen.", "action": "session_open", "user": "mchen",
                "session_id": "12",
            ]
        ),
        ParserCase(
            line: "Nov 24 10:09:30 ws-602 unix_chkpwd[999]: password check failed for user (mchen)",
            format: .rfc3164,
            time: "2026-11-24T10:09:30Z",
            fields: [
                "hostname": "ws-602", "program": "unix_chkpwd", "pid": "999",
                "message": "password check failed for user (mchen)",
                "action": "auth", "outcome": "failure", "user": "mchen",
            ]
        ),
    ]

    static let jsonCases: [ParserCase] = [
        ParserCase(
            line:
                #"{"ts":"2026-11-24T10:00:00.5Z","level":"WARN","username":"mchen","client_ip":"203.0.113.77","msg":"login ok","n":42,"ok":true,"none":null,"ctx":{"b":1,"a":[1,2]}}"#,
            format: .json,
            time: "2026-11-24T10:00:00.5Z",
            fields: [
                "user": "mchen", "src_ip": "203.0.113.77", "severity": "warning", "ts": "2026-11-24T10:00:00.5Z",
                "level": "WARN", "username": "mchen", "client_ip": "203.0.113.77", "msg": "login ok", "n": "42",
                "ok": "true", "none": "null", "ctx": #"{"a":[1,2],"b":1}"#,
            ]
        ),
        ParserCase(
            line: #"{"time":1795514400,"user":"root","src_ip":"10.0.0.1","ip":"10.9.9.9"}"#,
            format: .json,
            time: "2026-11-24T10:00:00Z",
            fields: ["time": "1795514400", "user": "root", "src_ip": "10.0.0.1", "ip": "10.9.9.9"]
        ),
        ParserCase(
            line: #"{"timestamp":1795514400123,"user":{"name":"mchen","id":7}}"#,
            format: .json,
            time: "2026-11-24T10:00:00.123Z",
            fields: ["timestamp": "1795514400123", "user": "mchen", "user_json": #"{"id":7,"name":"mchen"}"#]
        ),
        ParserCase(
            line: #"{"@timestamp":"2026-11-24T11:00:00+01:00","severity":"error","actor":"svc"}"#,
            format: .json,
            time: "2026-11-24T10:00:00Z",
            fields: ["@timestamp": "2026-11-24T11:00:00+01:00", "severity": "err", "actor": "svc", "user": "svc"]
        ),
        ParserCase(
            line: #"{"date":"2026-11-24 10:00:00","remote_addr":"2001:db8::1","level":3}"#,
            format: .json,
            time: "2026-11-24T10:00:00Z",
            fields: [
                "date": "2026-11-24 10:00:00", "remote_addr": "2001:db8::1", "src_ip": "2001:db8::1", "level": "3",
                "severity": "err",
            ]
        ),
        ParserCase(
            line: #"{"ts":1795514400000000000,"msg":"ns"}"#,
            format: .json,
            time: "2026-11-24T10:00:00Z",
            fields: ["ts": "1795514400000000000", "msg": "ns"]
        ),
        ParserCase(
            line: #"{"ts":1795514400.25,"msg":"fraction"}"#,
            format: .json,
            time: "2026-11-24T10:00:00.25Z",
            fields: ["ts": "1795514400.25", "msg": "fraction"]
        ),
    ]

    static let hostileJSONCases: [ParserCase] = [
        ParserCase(
            line: #"{"ts":1e300,"level":1e300}"#,
            format: .json,
            time: nil,
            fields: ["ts": "1e+300", "level": "1e+300"]
        ),
        ParserCase(
            line: #"{"ts":-5,"time":"yesterday","level":true}"#,
            format: .json,
            time: nil,
            fields: ["ts": "-5", "time": "yesterday", "level": "true"]
        ),
    ]

    static let rawCases: [ParserCase] = [
        ParserCase(line: "hello world", format: .raw, time: nil, fields: [:]),
        ParserCase(line: "{not json", format: .raw, time: nil, fields: [:]),
        ParserCase(line: "[1,2,3]", format: .raw, time: nil, fields: [:]),
        ParserCase(line: "<999>Nov 24 10:00:00 host x: y", format: .raw, time: nil, fields: [:]),
        ParserCase(line: "Nov 34 10:00:00 host x: y", format: .raw, time: nil, fields: [:]),
        ParserCase(line: "", format: .raw, time: nil, fields: [:]),
        ParserCase(line: "2026-11-24 is the date", format: .raw, time: nil, fields: [:]),
    ]

    /// Applications' own logs: log4j's and Python logging's default layouts, a softphone's.
    static let applicationLogCases: [ParserCase] = [
        ParserCase(
            line: "2026-11-24 10:00:00,123 INFO [main] c.e.App - started",
            format: .serviceLog,
            time: "2026-11-24T10:00:00.123Z",
            fields: ["severity": "info", "message": "[main] c.e.App - started"]
        ),
        ParserCase(
            line: "2026-11-24 10:00:01,5 WARNING:root:disk almost full",
            format: .serviceLog,
            time: "2026-11-24T10:00:01.5Z",
            fields: ["severity": "warning", "message": "root:disk almost full"]
        ),
        ParserCase(
            line: #"2026-12-07 09:41:00.000 INFO call.start call_id=9d1e0c4a number="+1 202 555 0114" queue=helpdesk"#,
            format: .serviceLog,
            time: "2026-12-07T09:41:00Z",
            fields: [
                "severity": "info",
                "message": #"call.start call_id=9d1e0c4a number="+1 202 555 0114" queue=helpdesk"#,
            ]
        ),
        ParserCase(
            line: "2026-11-24 10:00:00 Backup finished",
            format: .serviceLog,
            time: "2026-11-24T10:00:00Z",
            fields: ["message": "Backup finished"]
        ),
    ]

    @Test(arguments: syslogCases + authCases + jsonCases + hostileJSONCases + rawCases + applicationLogCases)
    func parsesRealWorldLines(_ row: ParserCase) throws {
        let parsed = self.parser.parse(Array(row.line.utf8), observedNanos: observed)
        #expect(parsed.format == row.format)
        if let time = row.time {
            let expected = try #require(isoNanos(time))
            #expect(parsed.timeNanos == expected)
        } else {
            #expect(parsed.timeNanos == nil)
        }
        let keys = parsed.fields.map(\.key)
        #expect(Set(keys).count == keys.count, "duplicate keys: \(keys)")
        let actual = Dictionary(parsed.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(actual == row.fields)
    }

    // MARK: - Time rules

    @Test(arguments: [
        // (line, observed, expected)
        ("Dec 31 23:59:59 h p: m", "2027-01-03T00:00:00Z", "2026-12-31T23:59:59Z"),
        ("Nov 30 10:00:00 h p: m", "2026-11-24T12:00:00Z", "2026-11-30T10:00:00Z"),
        ("Dec  5 10:00:00 h p: m", "2026-11-24T12:00:00Z", "2025-12-05T10:00:00Z"),
        ("Jan  1 00:00:01 h p: m", "2026-12-31T23:00:00Z", "2027-01-01T00:00:01Z"),
        ("Feb 29 12:00:00 h p: m", "2028-03-01T00:00:00Z", "2028-02-29T12:00:00Z"),
        ("Nov 24 10:00:00.250 h p: m", "2026-11-24T12:00:00Z", "2026-11-24T10:00:00.25Z"),
    ])
    func yearlessTimestampsTakeTheObservedYear(line: String, observedAt: String, expected: String) throws {
        let observedNanos = try #require(isoNanos(observedAt))
        let parsed = self.parser.parse(Array(line.utf8), observedNanos: observedNanos)
        #expect(parsed.timeNanos == isoNanos(expected))
    }

    @Test(arguments: [
        ("Nov 24 10:00:00 h p: m", "2026-11-24T12:00:00Z", "2026-11-24T09:00:00Z"),
        ("Jul  1 10:00:00 h p: m", "2026-07-02T12:00:00Z", "2026-07-01T08:00:00Z"),
        ("2026-07-01T10:00:00 h p: m", "2026-07-02T12:00:00Z", "2026-07-01T08:00:00Z"),
        ("2026-07-01T10:00:00Z h p: m", "2026-07-02T12:00:00Z", "2026-07-01T10:00:00Z"),
        ("Dec 31 23:30:00 h p: m", "2027-01-01T00:10:00Z", "2026-12-31T22:30:00Z"),
    ])
    func zonelessTimestampsUseTheConfiguredZone(line: String, observedAt: String, expected: String) throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let parser = LineParser(timeZone: berlin)
        let observedNanos = try #require(isoNanos(observedAt))
        #expect(parser.parse(Array(line.utf8), observedNanos: observedNanos).timeNanos == isoNanos(expected))
    }

    // MARK: - Limits and bad input

    @Test func fieldsRespectWireLimits() throws {
        var object: [String: Any] = [:]
        for index in 0..<100 { object["k\(index)"] = "v" }
        object[String(repeating: "K", count: 300)] = "long key"
        object["big"] = String(repeating: "é", count: 10_000)
        let line = [UInt8](try JSONSerialization.data(withJSONObject: object))
        let parsed = self.parser.parse(line, observedNanos: observed)
        #expect(parsed.format == .json)
        #expect(parsed.fields.count == WireLimits.maxFieldsPerEvent)
        #expect(parsed.fields.allSatisfy { $0.key.utf8.count <= WireLimits.maxFieldKeyLength })
        #expect(parsed.fields.allSatisfy { $0.value.utf8.count <= WireLimits.maxFieldValueLength })
        let big = try #require(parsed[field: "big"])
        #expect(big.utf8.count == 8192)
        #expect(big.allSatisfy { $0 == "é" })
    }

    @Test func invalidUTF8GivesOnlyTheValidFields() {
        let line =
            Array("Nov 24 10:00:00 ws-602 sshd[1]: Accepted password for ".utf8) + [0xFF, 0xFE]
            + Array(" from 1.2.3.4 port 5 ssh2".utf8)
        let parsed = self.parser.parse(line, observedNanos: observed)
        #expect(parsed.format == .rfc3164)
        #expect(parsed[field: "hostname"] == "ws-602")
        #expect(parsed[field: "program"] == "sshd")
        #expect(parsed[field: "message"] == nil)
        #expect(parsed[field: "user"] == nil)
    }

    /// An access log's user may contain a space: the ident is the first `-` after the client and the user all that
    /// follows it; without a `-`, more than three words cannot be told apart and no user is taken (the client still is).
    @Test(
        arguments: [
            (#"1.2.3.4 - John Smith [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1"#, "John Smith"),
            (#"1.2.3.4 - a - b [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1"#, "a - b"),
            (#"1.2.3.4 - - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1"#, nil),
            (#"1.2.3.4 alice frank extra [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1"#, nil),
            (#"1.2.3.4 alice frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1"#, "frank"),
        ] as [(String, String?)]
    )
    func accessLogUsersWithSpaces(line: String, user: String?) {
        let parsed = self.parser.parse(Array(line.utf8), observedNanos: observed)
        #expect(parsed.format == .accessLog)
        #expect(parsed[field: "src_ip"] == "1.2.3.4")
        #expect(parsed[field: "user"] == user)
        #expect(parsed.timeNanos == isoNanos("2000-10-10T20:55:36Z"))
    }

    @Test func arbitraryBytesNeverCrash() {
        var random = SeededGenerator(state: 99)
        let seeds: [[UInt8]] = [
            Array("<13>1 2026-11-24T10:00:00Z h a p m [x@1 k=\"v\"] msg".utf8),
            Array("Nov 24 10:00:00 host sshd[1]: Failed password for invalid user a from 1.2.3.4 port 5".utf8),
            Array("{\"ts\":1795514400,\"user\":{\"name\":\"x\"}}".utf8),
            Array("2026-11-24T10:00:00.123456+01:00 host sudo: u : TTY=x ; USER=root ; COMMAND=/bin/sh".utf8),
            Array(
                #"1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://r/" "UA""#.utf8
            ),
            Array(#"2001:db8::1, 10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 -"#.utf8),
            Array(
                "[Wed Oct 11 14:32:52.1 2000] [core:error] [pid 1:tid 2] [client [::1]:5] AH00124: user x not found: /"
                    .utf8
            ),
            Array(
                #"2024/01/01 12:00:00 [error] 1#0: *1 user "u": password mismatch, client: 1.2.3.4, server: x, request: "GET / HTTP/1.1""#
                    .utf8
            ),
            Array(
                "Nov 24 10:00:00 h kernel: [UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 PROTO=TCP SPT=1 DPT=22 [SRC=1"
                    .utf8
            ),
            Array(
                "[20240328-16:23:39] [INFO ] ++ created session (access granted): username u, ip ::ffff:1.2.3.4:5 - s"
                    .utf8
            ),
            Array(#"Wed Jul 27 18:32:27 2016 [pid 2] [u] OK UPLOAD: Client "1.2.3.4", "/a", 1 bytes"#.utf8),
            Array(
                "Nov 24 10:00:00 h useradd[1]: new user: name=a, UID=1, GID=1, home=/h, shell=/s, from=/dev/pts/1".utf8
            ),
            Array(
                "Nov 24 10:00:00 h polkitd[1]: Operator of unix-session:2 FAILED to authenticate to gain x [y] (owned by"
                    .utf8
            ),
        ]
        for _ in 0..<6_000 {
            var line = seeds[Int.random(in: 0..<seeds.count, using: &random)]
            let cut = Int.random(in: 0...line.count, using: &random)
            line = Array(line[..<cut])
            for _ in 0..<Int.random(in: 0...4, using: &random) where !line.isEmpty {
                line[Int.random(in: 0..<line.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            let parsed = self.parser.parse(line, observedNanos: observed)
            #expect(parsed.fields.count <= WireLimits.maxFieldsPerEvent)
        }
    }
}

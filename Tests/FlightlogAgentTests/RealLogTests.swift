import FlightlogAgent
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Glibc
import Testing

/// The parser on logs real hosts wrote, published by others, with the truth taken from outside the parser.
///
/// Samples: loghub (https://github.com/logpai/loghub, commit dd61d0952749ee7963bde24220d1be5ede023033; J. Zhu et
/// al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019; free for research use with a reference to
/// the repository), `OpenSSH/OpenSSH_2k.log` (an sshd under brute force, OpenSSH 6.x) and `Linux/Linux_2k.log` (a
/// Red Hat host of 2005 with legacy `sshd(pam_unix)` tags and CRLF line ends), in `Tests/Fixtures/loghub/`.
///
/// Truth: loghub's own annotation, `*_structured.csv`, which gives each line's event template (`<*>` for each
/// variable part). The tables below, written from the templates before the parser was changed, say which variable
/// of each template is the user or the address the line names; an address counts only when `inet_pton` reads it
/// (a host name in `rhost=` is not one).
@Suite("The parser on public real-world logs")
struct RealLogTests {
    /// Which variable of a template is the user and which the source address; or a user written in the template.
    struct Truth {
        var user: Int? = nil
        var literalUser: String? = nil
        var ip: Int? = nil
    }

    static let openSSH: [String: Truth] = [
        "E1": Truth(user: 0, ip: 1),  // Accepted password for <*> from <*> port <*> ssh2
        "E2": Truth(ip: 0),  // Connection closed by <*> [preauth]
        "E3": Truth(ip: 0),  // Did not receive identification string from <*>
        "E4": Truth(literalUser: "admin"),  // Disconnecting: Too many authentication failures for admin [preauth]
        "E5": Truth(literalUser: "root"),  // … for root [preauth]
        "E6": Truth(ip: 0),  // error: Received disconnect from <*>: <*>: com.jcraft.jsch.JSchException: Auth fail
        "E7": Truth(ip: 0),  // error: Received disconnect from <*>: <*>: No more user authentication methods …
        "E8": Truth(user: 0, ip: 1),  // Failed none for invalid user <*> from <*> port <*> ssh2
        "E9": Truth(user: 0, ip: 1),  // Failed password for <*> from <*> port <*> ssh2
        "E10": Truth(user: 0, ip: 1),  // Failed password for invalid user <*> from <*> port <*> ssh2
        "E12": Truth(user: 0),  // input_userauth_request: invalid user <*> [preauth]
        "E13": Truth(user: 0, ip: 1),  // Invalid user <*> from <*>
        "E14": Truth(literalUser: "root", ip: 1),  // message repeated <*> times: [ Failed password for root from <*> …
        "E15": Truth(ip: 3),  // PAM <*> more authentication failure; logname= uid=<*> euid=<*> tty=ssh ruser= rhost=<*>
        "E16": Truth(ip: 3),  // PAM <*> more authentication failures; … rhost=<*>
        "E17": Truth(literalUser: "root", ip: 3),  // PAM <*> more authentication failures; … rhost=<*>  user=root
        "E19": Truth(ip: 2),  // pam_unix(sshd:auth): authentication failure; logname= uid=<*> euid=<*> … rhost=<*>
        "E20": Truth(user: 3, ip: 2),  // … rhost=<*> user=<*>
        "E22": Truth(user: 0),  // pam_unix(sshd:session): session closed for user <*>
        "E23": Truth(user: 0),  // pam_unix(sshd:session): session opened for user <*> by (uid=<*>)
        "E24": Truth(ip: 0),  // Received disconnect from <*>: <*>: Bye Bye [preauth]
        "E25": Truth(ip: 0),  // Received disconnect from <*>: <*>: Closed due to user request. [preauth]
        "E26": Truth(ip: 0),  // Received disconnect from <*>: <*>: disconnected by user
        "E27": Truth(ip: 1),  // reverse mapping checking getaddrinfo for <*> [<*>] failed - POSSIBLE BREAK-IN ATTEMPT!
    ]

    static let linux: [String: Truth] = [
        "E9": Truth(literalUser: "anonymous", ip: 0),  // ANONYMOUS FTP LOGIN FROM <*>,  (anonymous)
        "E13": Truth(ip: 0),  // Authentication failed from <*> (<*>): Permission denied in replay cache code
        "E14": Truth(ip: 0),  // Authentication failed from <*> (<*>): Software caused connection abort
        "E16": Truth(ip: 0),  // authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=<*>
        "E17": Truth(literalUser: "guest", ip: 0),  // … rhost=<*>  user=guest
        "E18": Truth(literalUser: "root", ip: 0),  // … rhost=<*>  user=root
        "E19": Truth(literalUser: "test", ip: 0),  // … rhost=<*>  user=test
        "E29": Truth(ip: 0),  // connection from <*> (<*>) at <*>:<*>:<*>
        "E88": Truth(ip: 0),  // Received SNMP packet(s) from <*>
        "E91": Truth(literalUser: "root"),  // ROOT LOGIN ON tty2
        "E101": Truth(user: 0),  // session closed for user <*>
        "E102": Truth(user: 0),  // session opened for user <*> by (uid=<*>)
        "E103": Truth(user: 0),  // session opened for user <*> by LOGIN(uid=<*>)
    ]

    /// How many users and addresses the lines name, how many the parser found, and how many it got wrong.
    struct Figures: CustomStringConvertible {
        var lines = 0
        var users = 0
        var usersFound = 0
        var usersWrong: [String] = []
        var ips = 0
        var ipsFound = 0
        var ipsWrong: [String] = []
        var carriageReturns = 0

        var description: String {
            "\(lines) lines: users \(usersFound)/\(users) (\(usersWrong.count) wrong), "
                + "addresses \(ipsFound)/\(ips) (\(ipsWrong.count) wrong), values with CR \(carriageReturns)"
        }
    }

    /// Runs the parser on every line of `log` and scores it against `truth` through loghub's annotation.
    static func score(log: String, annotation: String, truth: [String: Truth]) throws -> Figures {
        let raw = try Data(contentsOf: RepositoryFiles.fixtures.appendingPathComponent("loghub/" + log))
        var lines = raw.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let rows = try CSV.rows(
            String(
                decoding: try Data(contentsOf: RepositoryFiles.fixtures.appendingPathComponent("loghub/" + annotation)),
                as: UTF8.self
            )
        )
        guard let header = rows.first, let content = header.firstIndex(of: "Content"),
            let eventID = header.firstIndex(of: "EventId"), let template = header.firstIndex(of: "EventTemplate")
        else { throw TestFailure("\(annotation) has no Content, EventId or EventTemplate column") }
        let annotated = rows.dropFirst()
        guard annotated.count == lines.count else {
            throw TestFailure("\(annotated.count) annotated rows for \(lines.count) lines of \(log)")
        }
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var figures = Figures()
        for (line, row) in zip(lines, annotated) {
            figures.lines += 1
            let parsed = parser.parse(Array(line), observedNanos: 1_100_000_000_000_000_000)
            figures.carriageReturns += parsed.fields.filter { $0.value.contains("\r") }.count
            guard let expected = truth[row[eventID]] else { continue }
            guard let variables = Template.variables(of: row[content], in: row[template]) else {
                throw TestFailure("\(row[content]) does not match its own template \(row[template])")
            }
            let named = expected.literalUser ?? expected.user.map { variables[$0] }
            if let named {
                figures.users += 1
                let found = [parsed[field: "user"], parsed[field: "target_user"]]
                if found.contains(named) {
                    figures.usersFound += 1
                } else if let other = parsed[field: "user"] {
                    figures.usersWrong.append("\(other) for \(named): \(row[content])")
                }
            }
            if let index = expected.ip, Address.isIP(variables[index]) {
                figures.ips += 1
                if parsed[field: "src_ip"] == variables[index] {
                    figures.ipsFound += 1
                } else if let other = parsed[field: "src_ip"] {
                    figures.ipsWrong.append("\(other) for \(variables[index]): \(row[content])")
                }
            }
        }
        return figures
    }

    @Test func anOpenSSHAuthLogUnderBruteForce() throws {
        let figures = try Self.score(
            log: "OpenSSH_2k.log",
            annotation: "OpenSSH_2k.log_structured.csv",
            truth: Self.openSSH
        )
        print("loghub OpenSSH_2k: \(figures)")
        #expect(figures.users > 500 && figures.ips > 1_000, "the sample names users and addresses: \(figures)")
        #expect(figures.usersWrong.isEmpty, "\(figures.usersWrong.prefix(5))")
        #expect(figures.ipsWrong.isEmpty, "\(figures.ipsWrong.prefix(5))")
        #expect(figures.usersFound * 100 >= figures.users * 98, "\(figures)")
        #expect(figures.ipsFound * 100 >= figures.ips * 98, "\(figures)")
    }

    @Test func aLinuxSyslogWithLegacyPAMTagsAndCRLF() throws {
        let figures = try Self.score(
            log: "Linux_2k.log",
            annotation: "Linux_2k.log_structured.csv",
            truth: Self.linux
        )
        print("loghub Linux_2k: \(figures)")
        #expect(figures.users > 100 && figures.ips > 500, "the sample names users and addresses: \(figures)")
        #expect(figures.carriageReturns == 0, "no parsed value keeps the line's CR")
        #expect(figures.usersWrong.isEmpty, "\(figures.usersWrong.prefix(5))")
        #expect(figures.ipsWrong.isEmpty, "\(figures.ipsWrong.prefix(5))")
        #expect(figures.usersFound * 100 >= figures.users * 98, "\(figures)")
        #expect(figures.ipsFound * 100 >= figures.ips * 98, "\(figures)")
    }

    /// Held out: lines the parser was not tuned on, from Filebeat's system module tests (elastic/beats,
    /// `filebeat/module/system/auth/test/test.log` at 549c1de6 and `secure-rhel7.log` at d13173e2, Apache 2.0), with
    /// the user and address Filebeat's `test.log-expected.json` gives (`system.auth.user`, `system.auth.ssh.ip`,
    /// `…dropped_ip`); for `secure-rhel7.log`, whose expected file was not read, the values were written down from the
    /// lines by hand before the parser ran on them. (user, address) per line; nil where the line names none.
    static let heldOut: [(String, String?, String?)] = [
        (
            "Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2: RSA 39:33:99:e9:a0:dc:f2:33:a3:e5:72:3b:7c:3a:56:84",
            "vagrant", "10.0.2.2"
        ),
        (
            "Feb 23 00:13:35 localhost sshd[7483]: Accepted password for vagrant from 192.168.33.1 port 58803 ssh2",
            "vagrant", "192.168.33.1"
        ),
        ("Feb 21 21:56:12 localhost sshd[3430]: Invalid user test from 10.0.2.2", "test", "10.0.2.2"),
        (
            "Feb 20 08:35:22 slave22 sshd[5774]: Failed password for root from 216.160.83.57 port 29160 ssh2", "root",
            "216.160.83.57"
        ),
        (
            "Feb 21 23:35:33 localhost sudo: vagrant : TTY=pts/0 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls",
            "vagrant", nil
        ),
        (
            "Feb 19 15:30:04 slave22 sshd[18406]: Did not receive identification string from 2.125.160.217", nil,
            "2.125.160.217"
        ),
        (
            "Feb 24 00:13:02 precise32 sudo:      tsg : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls",
            "tsg", nil
        ),
        (
            "Feb 22 16:45:26 slave22 sshd[2738]: PAM 4 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=202.109.143.106  user=root",
            "root", "202.109.143.106"
        ),
        (
            "Feb 22 16:45:32 slave22 sshd[2742]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=202.109.143.106  user=root",
            "root", "202.109.143.106"
        ),
        (
            "Feb 22 16:46:03 slave22 sshd[2758]: Received disconnect from 116.31.116.27: 11:  [preauth]", nil,
            "116.31.116.27"
        ),
        (
            "Feb 22 16:48:04 slave22 sshd[2805]: Accepted publickey for drewr from 69.245.39.97 port 34202 ssh2: RSA 01:67:32:d9:b3:20:5d:2d:5f:b4:35:c5:a5:8b:0a:5e",
            "drewr", "69.245.39.97"
        ),
        (
            "Feb 22 16:48:04 slave22 sshd[2805]: pam_unix(sshd:session): session opened for user drewr by (uid=0)",
            "drewr", nil
        ),
        (
            "Feb 22 16:48:04 slave22 sshd[2809]: Received disconnect from 69.245.39.97: 11: disconnected by user", nil,
            "69.245.39.97"
        ),
    ]

    @Test func heldOutLinesFromFilebeatsTests() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        for (line, user, ip) in Self.heldOut {
            let parsed = parser.parse(Array(line.utf8), observedNanos: 1_550_000_000_000_000_000)
            #expect(parsed[field: "user"] == user, "\(line)")
            #expect(parsed[field: "src_ip"] == ip, "\(line)")
        }
    }

    /// Forms of OpenSSH 7.x–9.x (`auth.c`, `auth2.c`, `sshd.c`/`sshd-session.c`, `packet.c` of openssh-portable), as
    /// they reach auth.log; written here from those sources' format strings, not copied from a host.
    static let modernSSHD: [(String, String?, String?, String?)] = [
        (
            "sshd-session[912]: Accepted publickey for mchen from 203.0.113.7 port 50522 ssh2: ED25519 SHA256:x",
            "mchen", "203.0.113.7", "success"
        ),
        (
            "sshd[1]: Connection closed by authenticating user root 203.0.113.7 port 50522 [preauth]", "root",
            "203.0.113.7", nil
        ),
        (
            "sshd[1]: Connection closed by invalid user admin 203.0.113.7 port 50522 [preauth]", "admin", "203.0.113.7",
            nil
        ),
        (
            "sshd[1]: Disconnected from authenticating user root 203.0.113.7 port 50522 [preauth]", "root",
            "203.0.113.7", nil
        ),
        (
            "sshd[1]: Disconnecting invalid user admin 203.0.113.7 port 50522: Too many authentication failures [preauth]",
            "admin", "203.0.113.7", "failure"
        ),
        (
            "sshd[1]: Disconnecting authenticating user root 203.0.113.7 port 50522: Too many authentication failures [preauth]",
            "root", "203.0.113.7", "failure"
        ),
        (
            "sshd[1]: error: maximum authentication attempts exceeded for invalid user admin from 203.0.113.7 port 50522 ssh2 [preauth]",
            "admin", "203.0.113.7", "failure"
        ),
        ("sshd[1]: Received disconnect from 203.0.113.7 port 50522:11: Bye Bye [preauth]", nil, "203.0.113.7", nil),
        ("sshd[1]: Received disconnect from 2001:db8::7 port 50522:11: disconnected by user", nil, "2001:db8::7", nil),
        (
            "sshd[1]: Unable to negotiate with 203.0.113.7 port 50522: no matching key exchange method found.", nil,
            "203.0.113.7", nil
        ),
        ("sshd[1]: banner exchange: Connection from 203.0.113.7 port 50522: invalid format", nil, "203.0.113.7", nil),
        ("sshd[1]: Timeout before authentication for 203.0.113.7 port 50522", nil, "203.0.113.7", nil),
        (
            "sshd[1]: Bad protocol version identification 'GET / HTTP/1.1' from 203.0.113.7 port 50522", nil,
            "203.0.113.7", nil
        ),
        (
            "sshd[1]: User root from 203.0.113.7 not allowed because not listed in AllowUsers", "root", "203.0.113.7",
            "failure"
        ),
        (
            "sshd[1]: Address 203.0.113.7 maps to host.example, but this does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
            nil, "203.0.113.7", nil
        ),
        (
            "sshd[1]: message repeated 2 times: [ Failed password for root from 203.0.113.7 port 50522 ssh2]", "root",
            "203.0.113.7", "failure"
        ),
        ("sshd[1]: Invalid user  from 203.0.113.7 port 50522", nil, "203.0.113.7", "failure"),
    ]

    @Test func modernOpenSSHForms() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        for (message, user, ip, outcome) in Self.modernSSHD {
            let parsed = parser.parse(
                Array(("Nov 24 10:00:00 ws-1 " + message).utf8),
                observedNanos: 1_795_500_000_000_000_000
            )
            #expect(parsed[field: "user"] == user, "\(message)")
            #expect(parsed[field: "src_ip"] == ip, "\(message)")
            #expect(parsed[field: "outcome"] == outcome, "\(message)")
        }
        let repeated = parser.parse(
            Array(
                "Nov 24 10:00:00 ws-1 sshd[1]: message repeated 2 times: [ Failed password for root from 203.0.113.7 port 50522 ssh2]"
                    .utf8
            ),
            observedNanos: 1_795_500_000_000_000_000
        )
        #expect(repeated[field: "repeat_count"] == "2")
    }

    /// `ruser=` and `user=` are chosen by the remote client: one that writes `rhost=` or `user=` into them must not
    /// plant an address or a user (fail2ban's pam-generic test log has such a line).
    @Test func aClientChosenNameCannotPlantAnAddressOrAUser() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        let lines = [
            "Jan 1 00:00:00 host sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=x rhost=6.6.6.6 rhost=203.0.113.9  user=root",
            "Jan 1 00:00:00 host sshd[1]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=x rhost=6.6.6.6",
            "Jan 1 00:00:00 host sshd(pam_unix)[1]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser=a user=admin rhost=203.0.113.9  user=root",
        ]
        for line in lines {
            let parsed = parser.parse(Array(line.utf8), observedNanos: 1_100_000_000_000_000_000)
            #expect(parsed[field: "src_ip"] != "6.6.6.6", "\(line)")
            #expect(parsed[field: "user"] != "admin", "\(line)")
        }
        let honest = parser.parse(
            Array(
                "Jan 1 00:00:00 host sshd[1]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root"
                    .utf8
            ),
            observedNanos: 1_100_000_000_000_000_000
        )
        #expect(honest[field: "src_ip"] == "203.0.113.9" && honest[field: "user"] == "root")
    }

    @Test func aLegacyPAMTagNamesTheServiceAsItsProgram() {
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        // Linux_2k.log, line 1 (CRLF as in the file).
        let parsed = parser.parse(
            Array(
                "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 \r"
                    .utf8
            ),
            observedNanos: 1_100_000_000_000_000_000
        )
        #expect(parsed[field: "program"] == "sshd")
        #expect(parsed[field: "pam_module"] == "pam_unix")
        #expect(parsed[field: "src_ip"] == "218.188.2.4")
        #expect(parsed[field: "outcome"] == "failure")
        #expect(parsed[field: "hostname"] == "combo")
    }
}

/// loghub's templates: `<*>` stands for one variable part.
enum Template {
    /// The variable parts of `content` in the order of the template's `<*>`, or nil if it does not match.
    static func variables(of content: String, in template: String) -> [String]? {
        let pieces = template.components(separatedBy: "<*>")
        let pattern = "^" + pieces.map(NSRegularExpression.escapedPattern(for:)).joined(separator: "(.*?)") + "$"
        guard let regex = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
            let match = regex.firstMatch(in: content, range: NSRange(content.startIndex..., in: content))
        else { return nil }
        return (1..<match.numberOfRanges).map { index in
            Range(match.range(at: index), in: content).map { String(content[$0]) } ?? ""
        }
    }
}

/// IPv4 and IPv6 literals as the C library reads them: the tests' own judgement of what an address is.
enum Address {
    static func isIP(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}

/// RFC 4180 CSV: fields in double quotes may hold commas, and `""` for a quote.
enum CSV {
    static func rows(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                        pending = next
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
            } else if scalar == "\"" && field.isEmpty {
                quoted = true
            } else if scalar == "," {
                row.append(field)
                field = ""
            } else if scalar == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else if scalar != "\r" {
                field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}

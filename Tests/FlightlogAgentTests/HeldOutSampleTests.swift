import FlightlogAgent
import FlightlogTestSupport
import Foundation
import Testing

/// The web, FTP and RDP parsers scored on public samples with the truth taken from outside the parser, in
/// `Tests/Fixtures/` (their READMEs cite them).
///
/// Held out: loghub's `Apache_2k.log` (scored against loghub's own annotation, as `RealLogTests` does for its samples)
/// and the fail2ban test logs listed in `unseen` were neither read nor run while the parsers were written; their
/// figures were taken once, when the parsers were done. The fail2ban logs in `readWhileWriting` were read while
/// writing (some of their lines are in `RealWebLogTests`), but the parser was not run on them until then either.
///
/// fail2ban's truth: each test line follows a `# failJSON: {…}` comment naming the `host` fail2ban must extract and,
/// sometimes, the `user`; a host counts when `inet_pton` reads it (fail2ban also bans host names).
@Suite("Held-out samples of web, FTP and RDP logs")
struct HeldOutSampleTests {
    static let unseen = [
        "apache-badbots", "apache-botsearch", "apache-modsecurity", "apache-nohome", "apache-noscript",
        "apache-overflows", "apache-pass", "apache-shellshock", "nginx-botsearch", "nginx-forbidden", "nginx-limit-req",
    ]
    static let readWhileWriting = [
        "apache-auth", "nginx-http-auth", "nginx-bad-request", "apache-fakegooglebot", "vsftpd", "xrdp",
    ]

    /// Scores the parser on the lines of one fail2ban test log that have a `failJSON` comment.
    static func scoreFail2ban(_ name: String) throws -> RealLogTests.Figures {
        let url = RepositoryFiles.fixtures.appendingPathComponent("fail2ban/" + name)
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        var figures = RealLogTests.Figures()
        var truth: [String: Any]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let json = line.firstRange(of: "# failJSON:").map({ line[$0.upperBound...] }) {
                truth = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
                continue
            }
            if line.hasPrefix("#") || line.allSatisfy({ $0 == " " }) { continue }
            guard let expected = truth else { continue }
            truth = nil
            figures.lines += 1
            let parsed = parser.parse(Array(line.utf8), observedNanos: 1_795_521_600 * 1_000_000_000)
            if let host = expected["host"] as? String, Address.isIP(host) {
                figures.ips += 1
                if parsed[field: "src_ip"] == host {
                    figures.ipsFound += 1
                } else if let other = parsed[field: "src_ip"] {
                    figures.ipsWrong.append("\(other) for \(host): \(line)")
                } else {
                    print("  no address for \(host) in \(name): \(line)")
                }
            }
            if let user = expected["user"] as? String {
                figures.users += 1
                if [parsed[field: "user"], parsed[field: "target_user"]].contains(user) {
                    figures.usersFound += 1
                } else if let other = parsed[field: "user"] {
                    figures.usersWrong.append("\(other) for \(user): \(line)")
                }
            }
        }
        return figures
    }

    static func total(_ all: [RealLogTests.Figures]) -> RealLogTests.Figures {
        var sum = RealLogTests.Figures()
        for figures in all {
            sum.lines += figures.lines
            sum.users += figures.users
            sum.usersFound += figures.usersFound
            sum.usersWrong += figures.usersWrong
            sum.ips += figures.ips
            sum.ipsFound += figures.ipsFound
            sum.ipsWrong += figures.ipsWrong
        }
        return sum
    }

    @Test func loghubsApacheErrorLog() throws {
        let figures = try RealLogTests.score(
            log: "Apache_2k.log",
            annotation: "Apache_2k.log_structured.csv",
            truth: ["E4": RealLogTests.Truth(ip: 0)]  // [client <*>] Directory index forbidden by rule: <*>
        )
        print("loghub Apache_2k (held out): \(figures)")
        #expect(figures.ips > 0, "the sample names addresses: \(figures)")
        // 32 of 32 when first scored, and since.
        #expect(figures.ipsFound * 100 >= figures.ips * 98, "\(figures)")
        #expect(figures.ipsWrong.isEmpty, "\(figures.ipsWrong.prefix(5))")
        #expect(figures.carriageReturns == 0)
    }

    @Test func fail2bansUnseenWebLogs() throws {
        let all = try Self.unseen.map { name in
            let figures = try Self.scoreFail2ban(name)
            print("fail2ban \(name) (held out): \(figures)")
            return figures
        }
        let figures = Self.total(all)
        print("fail2ban, held out, together: \(figures)")
        #expect(figures.ips > 50, "the samples name addresses: \(figures)")
        // 77 of 81 when first scored, 78 since (an Apache 2.2 client with its port). The three left are journal entries
        // rendered without a time (`host nginx[2833]: …`), which no log file holds.
        #expect(figures.ipsFound >= 78, "\(figures)")
        #expect(figures.ipsWrong.isEmpty, "\(figures.ipsWrong.prefix(5))")
        #expect(figures.usersWrong.isEmpty, "\(figures.usersWrong.prefix(5))")
    }

    @Test func fail2bansLogsReadWhileWriting() throws {
        let all = try Self.readWhileWriting.map { name in
            let figures = try Self.scoreFail2ban(name)
            print("fail2ban \(name) (read while writing): \(figures)")
            return figures
        }
        let figures = Self.total(all)
        print("fail2ban, read while writing, together: \(figures)")
        #expect(figures.ips > 50, "the samples name addresses: \(figures)")
        // 77 of 85 when first run, 81 since (Apache's error lines in syslog, an Apache 2.2 client with its port, vsftpd's PAM line without its
        // module). Left: a user name that repeats `, client: ` (ambiguous on purpose), journal entries rendered without
        // a time, and an Apache instance tagged `httpd/backend1`.
        #expect(figures.ipsFound >= 81, "\(figures)")
        #expect(figures.ipsWrong.isEmpty, "\(figures.ipsWrong.prefix(5))")
        #expect(figures.usersWrong.isEmpty, "\(figures.usersWrong.prefix(5))")
    }
}

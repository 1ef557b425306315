import Foundation

/// The mixed corpus (`FLIGHTLOG_BENCH_CORPUS=mixed`): what an agent on a Linux server reads, in every grammar its
/// parsers know, built from the public samples in `Tests/Fixtures` and ``LineGenerator``'s lines. Of every 100 lines:
///
/// | lines | from                                                                                          |
/// |-------|-----------------------------------------------------------------------------------------------|
/// | 45    | ``LineGenerator`` (syslog sshd, sudo, cron, UFW and nginx lines, JSON application lines)       |
/// | 15    | loghub's OpenSSH sample (sshd as a host under attack writes it)                                 |
/// | 10    | loghub's Linux sample (legacy PAM tags, su, ftpd, klogind, the kernel, logrotate…)            |
/// | 10    | auditd's audit.log (Filebeat's RHEL 7 records)                                                  |
/// | 10    | web access log lines, Combined Log Format: generated, and fail2ban's access samples one in five |
/// | 5     | loghub's Apache error log                                                                      |
/// | 5     | fail2ban's nginx error, vsftpd and xrdp samples                                                 |
///
/// Every second syslog line with a BSD time gets an ISO time instead (`2026-11-24T10:00:00.123456+00:00`, the
/// RSYSLOG_FileFormat that Debian 12 and later write). The samples are cycled; a sample line comes back after several
/// thousand lines, far beyond zlib's 32 KiB window, so compression sees no more repetition than real files have.
struct MixedCorpus {
    private var generator = LineGenerator()
    private let openSSH: [[UInt8]]
    private let linux: [[UInt8]]
    private let audit: [[UInt8]]
    private let accessSamples: [[UInt8]]
    private let apacheError: [[UInt8]]
    private let serviceSamples: [[UInt8]]
    private var cursors = [Int](repeating: 0, count: 6)
    private var sequence = 0
    private var bsdSyslogLines = 0

    /// Which source each of 20 consecutive lines comes from (the table above, in twentieths).
    private static let pattern: [Int] = [0, 1, 0, 2, 0, 3, 4, 0, 1, 0, 5, 0, 1, 2, 0, 3, 4, 0, 6, 0]

    init() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/Fixtures")
        func lines(_ paths: [String]) throws -> [[UInt8]] {
            var result: [[UInt8]] = []
            for path in paths {
                let data = try Data(contentsOf: fixtures.appendingPathComponent(path))
                for line in data.split(separator: 0x0a, omittingEmptySubsequences: true)
                where line.first != UInt8(ascii: "#") && !line.allSatisfy({ $0 == 0x0d || $0 == 0x20 }) {
                    result.append(Array(line))
                }
            }
            guard !result.isEmpty else { throw BenchError("no line in \(paths) under \(fixtures.path)") }
            return result
        }
        self.openSSH = try lines(["loghub/OpenSSH_2k.log"])
        self.linux = try lines(["loghub/Linux_2k.log"])
        self.audit = try lines(["auditd/filebeat-audit-rhel7.log"])
        self.accessSamples = try lines([
            "fail2ban/apache-badbots", "fail2ban/apache-fakegooglebot", "fail2ban/apache-pass",
            "fail2ban/nginx-bad-request", "fail2ban/nginx-botsearch",
        ])
        self.apacheError = try lines(["loghub/Apache_2k.log"])
        self.serviceSamples = try lines([
            "fail2ban/nginx-http-auth", "fail2ban/nginx-limit-req", "fail2ban/nginx-forbidden", "fail2ban/vsftpd",
            "fail2ban/xrdp",
        ])
    }

    /// The next line's bytes, without its newline.
    mutating func lineBytes() -> [UInt8] {
        let source = Self.pattern[self.sequence % Self.pattern.count]
        self.sequence += 1
        let line: [UInt8]
        switch source {
        case 0: line = self.generator.lineBytes()
        case 1: line = self.next(self.openSSH, 0)
        case 2: line = self.next(self.linux, 1)
        case 3: line = self.next(self.audit, 2)
        case 4: line = self.sequence % 100 < 20 ? self.next(self.accessSamples, 3) : self.accessLine()
        case 5: line = self.next(self.apacheError, 4)
        default: line = self.next(self.serviceSamples, 5)
        }
        return self.withISOTimeEverySecondLine(line)
    }

    private mutating func next(_ lines: [[UInt8]], _ cursor: Int) -> [UInt8] {
        let line = lines[self.cursors[cursor] % lines.count]
        self.cursors[cursor] += 1
        return line
    }

    /// A Combined Log Format line of a web server's own access log (not syslog).
    private mutating func accessLine() -> [UInt8] {
        let seq = self.sequence
        let second = seq / 250
        let time = "24/Nov/2026:\(pad(10 + second / 3600 % 12)):\(pad(second / 60 % 60)):\(pad(second % 60)) +0000"
        let ip = "\(203 - seq % 3).\(seq % 251).\(seq / 251 % 256).\(1 + seq % 254)"
        let paths = ["/", "/login", "/api/v1/customers/\(seq)", "/static/app.\(seq % 97).js", "/wp-login.php"]
        let statuses = [200, 200, 200, 304, 404, 302]
        return Array(
            ("\(ip) - \(seq % 7 == 0 ? "mchen" : "-") [\(time)] \"GET \(paths[seq % paths.count])?q=\(seq) HTTP/1.1\" "
                + "\(statuses[seq % statuses.count]) \(seq % 90_000) \"https://crm.example.com/\" "
                + "\"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"").utf8
        )
    }

    /// Every second line that starts with a BSD syslog time (`Mmm dd hh:mm:ss `) gets an ISO time instead.
    private mutating func withISOTimeEverySecondLine(_ line: [UInt8]) -> [UInt8] {
        guard line.count > 16, line[3] == UInt8(ascii: " "), line[9] == UInt8(ascii: ":"),
            line[12] == UInt8(ascii: ":"), line[15] == UInt8(ascii: " "),
            let month = Self.months.firstIndex(of: String(decoding: line[0..<3], as: UTF8.self))
        else { return line }
        self.bsdSyslogLines += 1
        guard self.bsdSyslogLines % 2 == 0 else { return line }
        let day = String(decoding: line[4..<6], as: UTF8.self).replacingOccurrences(of: " ", with: "0")
        let clock = String(decoding: line[7..<15], as: UTF8.self)
        let fraction = String(format: "%06d", self.sequence * 7919 % 1_000_000)
        return Array("2026-\(pad(month + 1))-\(day)T\(clock).\(fraction)+00:00".utf8) + line[15...]
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}

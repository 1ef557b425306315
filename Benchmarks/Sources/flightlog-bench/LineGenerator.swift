import Foundation

/// Deterministic log lines (~160 bytes on average) in the mix of shared/bench/peers/lib/gen_logs.py (whose own lines
/// average ~200 bytes; ``init(file:)`` reads those): syslog-framed sshd, sudo, cron, kernel and nginx lines, ~15 %
/// JSON application lines, and a JSON help-desk password reset every 100,003 lines. Every line is unique.
struct LineGenerator {
    private var state: UInt64
    private var sequence = 0
    /// Lines read from a file instead (``init(file:)``), handed out in order and cycled.
    private var file: [UInt8] = []
    private var offset = 0

    init(seed: UInt64 = 42) { self.state = seed }

    /// Generated lines, or the lines of `path` (for instance `shared/bench/peers/lib/gen_logs.py`'s ~200-byte
    /// lines, so that the ingest benchmark runs on exactly the text of the peer comparison).
    init(file path: String?, seed: UInt64 = 42) throws {
        self.state = seed
        guard let path else { return }
        self.file = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        guard self.file.contains(where: { $0 != 0x0a }) else { throw BenchError("\(path) holds no line") }
    }

    /// The next line's bytes, without its newline.
    mutating func lineBytes() -> [UInt8] {
        guard !self.file.isEmpty else { return Array(self.line().utf8) }
        while true {
            if self.offset >= self.file.count { self.offset = 0 }
            let end = self.file[self.offset...].firstIndex(of: 0x0a) ?? self.file.count
            let line = Array(self.file[self.offset..<end])
            self.offset = end + 1
            if !line.isEmpty { return line }
        }
    }

    private mutating func next() -> UInt64 {
        self.state = self.state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return self.state >> 33
    }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int(self.next() % UInt64(values.count))] }

    private mutating func ip() -> String {
        "\(self.pick([10, 172, 192, 203, 45, 185])).\(self.next() % 256).\(self.next() % 256).\(1 + self.next() % 254)"
    }

    private mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int(self.next() % 16)] })
    }

    mutating func line() -> String {
        self.sequence += 1
        let seq = self.sequence
        let users = ["root", "alice", "bob", "carol", "mchen", "deploy", "admin", "postgres", "www-data", "jenkins"]
        let hosts = ["cc-ws-601", "cc-ws-602", "cc-ws-603", "crm-01", "helpdesk-02", "vpn-01"]
        let second = seq / 250
        let stamp = "Nov 24 \(pad(10 + second / 3600 % 12)):\(pad(second / 60 % 60)):\(pad(second % 60))"
        let host = self.pick(hosts)
        let pid = 1000 + (seq * 7919) % 4_000_000
        // About one help-desk reset per 100,000 lines (no random draw, so the other lines stay as they were).
        if seq % 100_003 == 50_000 {
            return
                "{\"ts\":\"2026-11-24T\(pad(10 + second / 3600 % 12)):\(pad(second / 60 % 60)):\(pad(second % 60))Z\","
                + "\"event\":\"helpdesk.password_reset\",\"action\":\"password_reset\",\"user\":\"\(users[seq % users.count])\","
                + "\"actor\":\"hd-op\(seq % 7)\",\"ticket\":\"INC-\(seq)\",\"channel\":\"phone\"}"
        }
        switch self.next() % 20 {
        case 0, 1, 2:
            return
                "{\"ts\":\"2026-11-24T\(pad(10 + second / 3600 % 12)):\(pad(second / 60 % 60)):\(pad(second % 60)).\(seq % 1000)Z\","
                + "\"level\":\"info\",\"svc\":\"crm\",\"msg\":\"report exported\",\"req_id\":\"\(self.hex(8))-\(seq)\","
                + "\"user\":\"\(self.pick(users))\",\"client_ip\":\"\(self.ip())\",\"rows\":\(self.next() % 50000)}"
        case 3, 4, 5, 6:
            return "\(stamp) \(host) sshd[\(pid)]: Accepted publickey for \(self.pick(users)) from \(self.ip()) port "
                + "\(1024 + seq % 64000) ssh2: RSA SHA256:\(self.hex(43))"
        case 7, 8:
            return
                "\(stamp) \(host) sshd[\(pid)]: Failed password for invalid user \(self.pick(users)) from \(self.ip()) "
                + "port \(1024 + seq % 64000) ssh2 [preauth] attempt=\(seq)"
        case 9, 10:
            return "\(stamp) \(host) sudo:    \(self.pick(users)) : TTY=pts/\(seq % 9) ; PWD=/home/ops ; USER=root ; "
                + "COMMAND=/usr/bin/systemctl restart crm-sync.service --seq=\(seq)"
        case 11, 12:
            return
                "\(stamp) \(host) CRON[\(pid)]: (root) CMD (/usr/local/bin/backup-customers --incremental --id \(seq) "
                + "--target s3://bucket/\(self.hex(12)))"
        case 13:
            return
                "\(stamp) \(host) kernel: [\(seq).\(self.next() % 1_000_000)] UFW BLOCK IN=eth0 OUT= SRC=\(self.ip()) "
                + "DST=\(self.ip()) LEN=60 TOS=0x00 PROTO=TCP SPT=\(seq % 65535) DPT=22"
        default:
            return
                "\(stamp) \(host) nginx[\(pid)]: \(self.ip()) - - \"GET /api/v1/customers/\(seq)?fields=all HTTP/1.1\" "
                + "200 \(self.next() % 90000) \"-\" \"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101\""
        }
    }
}

func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

public import FlightlogWire

/// Random events whose fields and lines hit the corners, from a seeded generator.
public enum CornerCaseEvents {
    public static let keys = [
        "program", "pid", "user", "src_ip", "severity", "message", "hostname", "PID", "Program", "User", "action",
        "outcome", "src_port", "Ip", "clientip", "k\"ey", "日本", "user ", "", "severity",
    ]
    public static let values = [
        "sshd", "1234", "+12", "-0", "", "12a", "99999999999999999999", "-9223372036854775808", " 7", "mchen",
        "203.0.113.7", "quote \" back \\ nl \n tab \t ctl \u{01}", "Zoë 日本語 🔐", "\u{00}", "/", "a\u{301}",
    ]

    /// An event built to hit the corners of the wire format and of what is derived from it: duplicate and
    /// case-varied keys, numbers that do not parse, escapes, non-ASCII, lines that are not UTF-8 or empty.
    /// 1–20 events of ``event(_:)``: one payload's worth.
    public static func events(_ random: inout SeededRandom) -> [Event] {
        (0..<Int(1 + random.next() % 20)).map { _ in Self.event(&random) }
    }

    public static func event(_ random: inout SeededRandom) -> Event {
        var line = Array("Nov 24 09:00:04 ws sshd[1]: Accepted password for mchen from 203.0.113.4".utf8)
        switch random.next() % 4 {
        case 0: line.append(contentsOf: [0xff, 0xfe, 0x41])  // not UTF-8
        case 1: line = Array("Zoë a tenté 日本語".utf8)
        case 2: line = []
        default: break
        }
        let fieldCount = Int(random.next() % 9)
        return Event(
            timeNanos: Int64(bitPattern: random.next()),
            observedNanos: Int64(bitPattern: random.next()),
            flags: random.next() % 2 == 0 ? [] : .timeFromLine,
            host: random.pick(["ws-1", "ws-1", "", "hôte-2"]),
            source: random.pick(["/var/log/auth.log", "/var/log/auth.log", "journal"]),
            line: line,
            fields: (0..<fieldCount).map { _ in Event.Field(random.pick(Self.keys), random.pick(Self.values)) }
        )
    }
}

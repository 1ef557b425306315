import FlightlogEvidence

/// Times as the simulated logs write them, in UTC, computed without Foundation's formatters (whose output depends on
/// the locale and the ICU version): the output is a function of the seed and the start alone.
enum SimulatedTime {
    /// Year, month, day, hour, minute, second and millisecond of `nanos` since the Unix epoch (UTC).
    struct Civil {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
        var millisecond: Int
    }

    static func civil(_ nanos: Int64) -> Civil {
        let seconds = nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000
        let millisecond = Int((nanos - seconds * 1_000_000_000) / 1_000_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let date = Timestamp.civil(fromDays: days)
        return Civil(
            year: Int(date.year),
            month: Int(date.month),
            day: Int(date.day),
            hour: secondOfDay / 3600,
            minute: secondOfDay / 60 % 60,
            second: secondOfDay % 60,
            millisecond: millisecond
        )
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Dec  7 09:13:22`: RFC 3164's timestamp, as rsyslog writes auth.log.
    static func syslog(_ nanos: Int64) -> String {
        let c = Self.civil(nanos)
        let day = c.day < 10 ? " \(c.day)" : "\(c.day)"
        return "\(Self.months[c.month - 1]) \(day) \(Self.two(c.hour)):\(Self.two(c.minute)):\(Self.two(c.second))"
    }

    /// `2026-12-07T09:13:22.123Z`.
    static func iso(_ nanos: Int64) -> String {
        let c = Self.civil(nanos)
        return "\(c.year)-\(Self.two(c.month))-\(Self.two(c.day))T\(Self.two(c.hour)):\(Self.two(c.minute)):"
            + "\(Self.two(c.second)).\(Self.three(c.millisecond))Z"
    }

    /// `2026-12-07 09:13:22.123`: the softphone's own log format (UTC).
    static func softphone(_ nanos: Int64) -> String {
        let c = Self.civil(nanos)
        return "\(c.year)-\(Self.two(c.month))-\(Self.two(c.day)) \(Self.two(c.hour)):\(Self.two(c.minute)):"
            + "\(Self.two(c.second)).\(Self.three(c.millisecond))"
    }

    /// The hour of the day (UTC) of `nanos`.
    static func hour(_ nanos: Int64) -> Int { Self.civil(nanos).hour }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    private static func three(_ value: Int) -> String {
        value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : "\(value)"
    }
}

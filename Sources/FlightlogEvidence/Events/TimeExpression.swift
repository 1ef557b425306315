/// The time and duration forms investigators type: RFC 3339, a date, a relative age, a bare time of day.
public enum TimeExpression {
    /// Nanoseconds per unit suffix accepted in durations.
    private static let units: [Character: Int64] = [
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000,
        "w": 604_800_000_000_000,
    ]

    /// Parses a point in time, in ns since the Unix epoch.
    ///
    /// Accepted: `2026-11-24T09:00:00.5Z`, `2026-11-24T09:00Z`, `2026-11-24 09:00:00+02:00` (RFC 3339, seconds and
    /// fraction optional), `2026-11-24` (midnight UTC), `2h` / `3d` / `15m` / `90s` / `1w` (that long before `now`),
    /// and `11:00` or `11:00:30` (that time today, UTC).
    public static func parseInstant(_ text: String, now: Int64) throws(EvidenceError) -> Int64 {
        let trimmed = text.trimmingWhitespace
        if let age = Self.duration(trimmed) { return now - age }
        let bytes = Array(trimmed.utf8)
        var reader = DigitReader(bytes: bytes)
        if bytes.count >= 4, bytes.count <= 8, bytes.contains(UInt8(ascii: ":")) {
            guard let seconds = reader.timeOfDay(), reader.atEnd else { throw EvidenceError.badTime(text) }
            let midnight = Self.floor(now, 86_400_000_000_000)
            return midnight + seconds * 1_000_000_000
        }
        guard let days = reader.date() else { throw EvidenceError.badTime(text) }
        if reader.atEnd {
            guard let nanos = Self.nanos(seconds: days * 86_400, fraction: 0) else { throw EvidenceError.badTime(text) }
            return nanos
        }
        guard let separator = reader.next(),
            separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t")
                || separator == UInt8(ascii: " "),
            let seconds = reader.timeOfDay()
        else { throw EvidenceError.badTime(text) }
        let fraction = reader.fraction()
        guard let offset = reader.zoneOffset(), reader.atEnd,
            let nanos = Self.nanos(seconds: days * 86_400 + seconds - offset, fraction: fraction)
        else { throw EvidenceError.badTime(text) }
        return nanos
    }

    /// `seconds` since the Unix epoch plus `fraction` ns (0 ..< 10^9), or nil past the range of an `Int64` of
    /// nanoseconds (1677-09-21T00:12:43.145224192Z … 2262-04-11T23:47:16.854775807Z). A date has four digits, so
    /// `seconds` itself never overflows.
    static func nanos(seconds: Int64, fraction: Int64) -> Int64? {
        // Below zero the whole seconds are taken one short, so that −2^63 itself is reachable.
        let whole = seconds < 0 && fraction > 0 ? seconds + 1 : seconds
        let part = seconds < 0 && fraction > 0 ? fraction - 1_000_000_000 : fraction
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (sum, carry) = scaled.addingReportingOverflow(part)
        return carry ? nil : sum
    }

    /// Parses a duration such as `10m`, `2h`, `3d`, `90s`, `1w` (a bare number is seconds), in ns.
    public static func parseDuration(_ text: String) throws(EvidenceError) -> Int64 {
        let trimmed = text.trimmingWhitespace
        if let value = Self.duration(trimmed) { return value }
        if let seconds = Int64(trimmed), seconds >= 0, seconds <= Int64.max / 1_000_000_000 {
            return seconds * 1_000_000_000
        }
        throw EvidenceError.badDuration(text)
    }

    private static func duration(_ text: String) -> Int64? {
        guard let unitCharacter = text.last, let unit = Self.units[unitCharacter] else { return nil }
        guard let count = Int64(text.dropLast()), count >= 0, count <= Int64.max / unit else { return nil }
        return count * unit
    }

    static func floor(_ value: Int64, _ step: Int64) -> Int64 {
        let remainder = value % step
        return remainder < 0 ? value - remainder - step : value - remainder
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days-from-civil).
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// Reads the digits and punctuation of a date/time string.
private struct DigitReader {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool { self.index == self.bytes.count }

    mutating func next() -> UInt8? {
        guard self.index < self.bytes.count else { return nil }
        defer { self.index += 1 }
        return self.bytes[self.index]
    }

    mutating func peek() -> UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    mutating func number(_ digits: Int) -> Int64? {
        var value: Int64 = 0
        for _ in 0..<digits {
            guard let byte = self.next(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    mutating func expect(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue, self.peek() == ascii else { return false }
        self.index += 1
        return true
    }

    mutating func date() -> Int64? {
        guard let year = self.number(4), self.expect("-"), let month = self.number(2), self.expect("-"),
            let day = self.number(2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        return TimeExpression.days(year: year, month: month, day: day)
    }

    /// `HH:MM` or `HH:MM:SS`, as seconds of the day.
    mutating func timeOfDay() -> Int64? {
        guard let hour = self.number(2), self.expect(":"), let minute = self.number(2), hour < 24, minute < 60
        else { return nil }
        var second: Int64 = 0
        if self.expect(":") {
            guard let value = self.number(2), value <= 60 else { return nil }
            second = value
        }
        return hour * 3600 + minute * 60 + second
    }

    /// `.123456789` (up to 9 digits kept), as ns; 0 when absent.
    mutating func fraction() -> Int64 {
        guard self.expect(".") || self.expect(",") else { return 0 }
        var value: Int64 = 0
        var digits = 0
        while let byte = self.peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            self.index += 1
            if digits < 9 {
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                digits += 1
            }
        }
        while digits < 9 {
            value *= 10
            digits += 1
        }
        return value
    }

    /// `Z` or `±HH:MM` / `±HHMM`, as seconds east of UTC; a missing zone means UTC.
    mutating func zoneOffset() -> Int64? {
        guard let byte = self.peek() else { return 0 }
        if byte == UInt8(ascii: "Z") || byte == UInt8(ascii: "z") {
            self.index += 1
            return 0
        }
        guard byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") else { return nil }
        self.index += 1
        guard let hours = self.number(2) else { return nil }
        _ = self.expect(":")
        guard let minutes = self.number(2), hours < 24, minutes < 60 else { return nil }
        let offset = hours * 3600 + minutes * 60
        return byte == UInt8(ascii: "-") ? -offset : offset
    }
}

extension String {
    var trimmingWhitespace: String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

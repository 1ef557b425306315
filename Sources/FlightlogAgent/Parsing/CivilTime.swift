/// Calendar arithmetic and timestamp grammars, on bytes, without Foundation formatters (they are too slow
/// for the agent's line rate).
enum CivilTime {
    /// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The year of a day count from 1970-01-01 (inverse of ``daysFromCivil(year:month:day:)``, year only).
    static func year(fromDays days: Int64) -> Int64 {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Seconds since the epoch of a civil date and time read as if it were UTC.
    static func seconds(year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64) -> Int64 {
        self.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    /// The parts of a timestamp as written.
    struct Stamp {
        var year: Int64?
        var month: Int64
        var day: Int64
        var hour: Int64 = 0
        var minute: Int64 = 0
        var second: Int64 = 0
        var nanos: Int64 = 0
        /// Offset east of UTC in seconds, if the timestamp names one.
        var utcOffset: Int64?

        var isValid: Bool {
            (1...12).contains(self.month) && (1...31).contains(self.day) && (0...23).contains(self.hour)
                && (0...59).contains(self.minute) && (0...60).contains(self.second)
        }
    }

    // MARK: - Grammars

    /// `YYYY-MM-DD[(T|t| )hh:mm[:ss[(.|,)fraction]]][Z|z|±hh[:mm]|±hhmm]` starting at `index`; on success
    /// `index` is moved past it.
    static func parseISO(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Stamp? {
        var i = index
        guard let year = digits(bytes, &i, count: 4), byte(bytes, i) == 0x2D else { return nil }
        i += 1
        guard let month = digits(bytes, &i, count: 2), byte(bytes, i) == 0x2D else { return nil }
        i += 1
        guard let day = digits(bytes, &i, count: 2) else { return nil }
        var stamp = Stamp(year: year, month: month, day: day)
        let separator = byte(bytes, i)
        if separator == 0x54 || separator == 0x74 || (separator == 0x20 && isDigit(byte(bytes, i + 1))) {
            var j = i + 1
            guard let hour = digits(bytes, &j, count: 2), byte(bytes, j) == 0x3A else { return nil }
            j += 1
            guard let minute = digits(bytes, &j, count: 2) else { return nil }
            stamp.hour = hour
            stamp.minute = minute
            if byte(bytes, j) == 0x3A {
                j += 1
                guard let second = digits(bytes, &j, count: 2) else { return nil }
                stamp.second = second
                if byte(bytes, j) == 0x2E || byte(bytes, j) == 0x2C {
                    j += 1
                    guard let nanos = fraction(bytes, &j) else { return nil }
                    stamp.nanos = nanos
                }
            }
            i = j
            switch byte(bytes, i) {
            case 0x5A, 0x7A:
                stamp.utcOffset = 0
                i += 1
            case 0x2B, 0x2D:
                let sign: Int64 = byte(bytes, i) == 0x2D ? -1 : 1
                var k = i + 1
                guard let hours = digits(bytes, &k, count: 2) else { break }
                var minutes: Int64 = 0
                if byte(bytes, k) == 0x3A {
                    k += 1
                    guard let m = digits(bytes, &k, count: 2) else { return nil }
                    minutes = m
                } else if isDigit(byte(bytes, k)) {
                    guard let m = digits(bytes, &k, count: 2) else { return nil }
                    minutes = m
                }
                guard hours <= 23, minutes <= 59 else { return nil }
                stamp.utcOffset = sign * (hours * 3_600 + minutes * 60)
                i = k
            default:
                break
            }
        }
        guard stamp.isValid else { return nil }
        index = i
        return stamp
    }

    /// A day of the month, space-padded or not (`" 7"`, `"7"`, `"17"`), and the space after it, at `index`.
    static func dayOfMonth(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Int64? {
        var i = index
        if byte(bytes, i) == 0x20 { i += 1 }
        var day: Int64 = 0
        var dayDigits = 0
        while dayDigits < 2, isDigit(byte(bytes, i)) {
            day = day * 10 + Int64(bytes[i] &- 0x30)
            i += 1
            dayDigits += 1
        }
        guard dayDigits > 0, byte(bytes, i) == 0x20 else { return nil }
        index = i + 1
        return day
    }

    /// BSD syslog `Mmm dd hh:mm:ss[.fraction]` (day space-padded or not) starting at `index`.
    static func parseBSD(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Stamp? {
        var i = index
        guard i + 3 <= bytes.count, let month = monthNumber(bytes[i], bytes[i + 1], bytes[i + 2]) else { return nil }
        i += 3
        guard byte(bytes, i) == 0x20 else { return nil }
        i += 1
        guard let day = dayOfMonth(bytes, &i) else { return nil }
        guard let hour = digits(bytes, &i, count: 2), byte(bytes, i) == 0x3A else { return nil }
        i += 1
        guard let minute = digits(bytes, &i, count: 2), byte(bytes, i) == 0x3A else { return nil }
        i += 1
        guard let second = digits(bytes, &i, count: 2) else { return nil }
        var stamp = Stamp(year: nil, month: month, day: day, hour: hour, minute: minute, second: second)
        if byte(bytes, i) == 0x2E, isDigit(byte(bytes, i + 1)) {
            i += 1
            guard let nanos = fraction(bytes, &i) else { return nil }
            stamp.nanos = nanos
        }
        guard stamp.isValid else { return nil }
        index = i
        return stamp
    }

    /// Common Log Format `dd/Mon/yyyy:hh:mm:ss[ ±hhmm]` (what access logs write between `[` and `]`); the offset, when
    /// present, makes the time exact.
    static func parseCLF(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Stamp? {
        var i = index
        // Servers write two digits; a one-digit day is read too (it costs nothing and some generators write it).
        let day: Int64?
        if isDigit(byte(bytes, i)), byte(bytes, i + 1) == 0x2F {
            day = Int64(bytes[i] &- 0x30)
            i += 1
        } else {
            day = digits(bytes, &i, count: 2)
        }
        guard let day, byte(bytes, i) == 0x2F, i + 4 <= bytes.count,
            let month = monthNumber(bytes[i + 1], bytes[i + 2], bytes[i + 3])
        else { return nil }
        i += 4
        guard byte(bytes, i) == 0x2F else { return nil }
        i += 1
        guard let year = digits(bytes, &i, count: 4), byte(bytes, i) == 0x3A else { return nil }
        i += 1
        guard let (hour, minute, second) = clock(bytes, &i) else { return nil }
        var stamp = Stamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        if byte(bytes, i) == 0x20, byte(bytes, i + 1) == 0x2B || byte(bytes, i + 1) == 0x2D {
            let sign: Int64 = byte(bytes, i + 1) == 0x2D ? -1 : 1
            var k = i + 2
            guard let hours = digits(bytes, &k, count: 2), let minutes = digits(bytes, &k, count: 2), hours <= 23,
                minutes <= 59
            else { return nil }
            stamp.utcOffset = sign * (hours * 3_600 + minutes * 60)
            i = k
        }
        guard stamp.isValid else { return nil }
        index = i
        return stamp
    }

    /// C's `asctime` order, `Www Mmm dd hh:mm:ss[.fraction] yyyy` (day zero- or space-padded), as Apache's error log
    /// and vsftpd's own log write it.
    static func parseCTime(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Stamp? {
        var i = index
        guard i + 8 <= bytes.count, isWeekday(bytes[i], bytes[i + 1], bytes[i + 2]), bytes[i + 3] == 0x20,
            let month = monthNumber(bytes[i + 4], bytes[i + 5], bytes[i + 6]), bytes[i + 7] == 0x20
        else { return nil }
        i += 8
        guard let day = dayOfMonth(bytes, &i) else { return nil }
        guard let (hour, minute, second) = clock(bytes, &i) else { return nil }
        var nanos: Int64 = 0
        if byte(bytes, i) == 0x2E {
            i += 1
            guard let fraction = fraction(bytes, &i) else { return nil }
            nanos = fraction
        }
        guard byte(bytes, i) == 0x20 else { return nil }
        i += 1
        guard let year = digits(bytes, &i, count: 4) else { return nil }
        var stamp = Stamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        stamp.nanos = nanos
        guard stamp.isValid else { return nil }
        index = i
        return stamp
    }

    /// `yyyy<separator>mm<separator>dd` followed by `<between>hh:mm:ss`: nginx's `2024/01/01 12:00:00` (separator `/`,
    /// between a space) and xrdp's `20240101-12:00:00` (no separator, between `-`).
    static func parseCompact(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ index: inout Int,
        separator: UInt8?,
        between: UInt8
    ) -> Stamp? {
        var i = index
        guard let year = digits(bytes, &i, count: 4) else { return nil }
        if let separator {
            guard byte(bytes, i) == separator else { return nil }
            i += 1
        }
        guard let month = digits(bytes, &i, count: 2) else { return nil }
        if let separator {
            guard byte(bytes, i) == separator else { return nil }
            i += 1
        }
        guard let day = digits(bytes, &i, count: 2), byte(bytes, i) == between else { return nil }
        i += 1
        guard let (hour, minute, second) = clock(bytes, &i) else { return nil }
        let stamp = Stamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard stamp.isValid else { return nil }
        index = i
        return stamp
    }

    /// `hh:mm:ss`.
    private static func clock(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> (Int64, Int64, Int64)? {
        var i = index
        guard let hour = digits(bytes, &i, count: 2), byte(bytes, i) == 0x3A else { return nil }
        i += 1
        guard let minute = digits(bytes, &i, count: 2), byte(bytes, i) == 0x3A else { return nil }
        i += 1
        guard let second = digits(bytes, &i, count: 2) else { return nil }
        index = i
        return (hour, minute, second)
    }

    /// `Mon`…`Sun` as C's `asctime` writes them.
    static func isWeekday(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        switch (a, b, c) {
        case (0x4D, 0x6F, 0x6E), (0x54, 0x75, 0x65), (0x57, 0x65, 0x64), (0x54, 0x68, 0x75), (0x46, 0x72, 0x69),
            (0x53, 0x61, 0x74), (0x53, 0x75, 0x6E):
            return true
        default:
            return false
        }
    }

    // MARK: - Bytes

    @inline(__always)
    static func byte(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    /// Whether the bytes from `index` (before `end`) start with `prefix`, exactly.
    static func starts(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int, _ end: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard index >= 0, end - index >= count, end <= bytes.count else { return false }
        let pattern = prefix.utf8Start
        for offset in 0..<count where bytes[index + offset] != pattern[offset] { return false }
        return true
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- 0x30 < 10
    }

    /// Exactly `count` decimal digits.
    static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, count: Int) -> Int64? {
        guard index + count <= bytes.count else { return nil }
        var value: Int64 = 0
        for offset in 0..<count {
            let digit = bytes[index + offset] &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        index += count
        return value
    }

    /// One or more fraction digits as nanoseconds (digits beyond 9 are read and ignored).
    static func fraction(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Int64? {
        var nanos: Int64 = 0
        var count = 0
        while index < bytes.count, isDigit(bytes[index]) {
            if count < 9 { nanos = nanos * 10 + Int64(bytes[index] &- 0x30) }
            count += 1
            index += 1
        }
        guard count > 0 else { return nil }
        for _ in count..<max(count, 9) { nanos *= 10 }
        return nanos
    }

    /// `Jan`…`Dec` (first letter upper case as syslog writes it; the rest either case).
    static func monthNumber(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int64? {
        switch (a, b | 0x20, c | 0x20) {
        case (0x4A, 0x61, 0x6E): return 1  // Jan
        case (0x46, 0x65, 0x62): return 2  // Feb
        case (0x4D, 0x61, 0x72): return 3  // Mar
        case (0x41, 0x70, 0x72): return 4  // Apr
        case (0x4D, 0x61, 0x79): return 5  // May
        case (0x4A, 0x75, 0x6E): return 6  // Jun
        case (0x4A, 0x75, 0x6C): return 7  // Jul
        case (0x41, 0x75, 0x67): return 8  // Aug
        case (0x53, 0x65, 0x70): return 9  // Sep
        case (0x4F, 0x63, 0x74): return 10  // Oct
        case (0x4E, 0x6F, 0x76): return 11  // Nov
        case (0x44, 0x65, 0x63): return 12  // Dec
        default: return nil
        }
    }
}

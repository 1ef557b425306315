/// Formatting of nanosecond Unix times for people and tools.
public enum Timestamp {
    /// RFC 3339 in UTC with nanoseconds, e.g. `2026-11-24T09:00:00.123456789Z`.
    public static func rfc3339(_ nanos: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(30)
        Self.appendRFC3339(nanos, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Howard Hinnant's civil-from-days: proleptic Gregorian date of a day count since 1970-01-01.
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

extension Timestamp {
    /// Appends ``rfc3339(_:)`` of `nanos` as bytes, without building a `String` (the export hot path).
    ///
    /// Every field is non-negative: an `Int64` of nanoseconds spans the years 1677 to 2262.
    public static func appendRFC3339(_ nanos: Int64, to out: inout [UInt8]) {
        let (seconds, fraction) = Self.split(nanos)
        Self.appendRFC3339(seconds: seconds, fraction: fraction, to: &out)
    }

    /// Whole seconds since the Unix epoch (rounded down) and the nanoseconds past them (0 ..< 10^9).
    static func split(_ nanos: Int64) -> (seconds: Int64, fraction: Int64) {
        let fraction = nanos % 1_000_000_000
        return fraction < 0
            ? (nanos / 1_000_000_000 - 1, fraction + 1_000_000_000) : (nanos / 1_000_000_000, fraction)
    }

    /// ``appendRFC3339(_:to:)`` of a time given in seconds and nanoseconds: a local time (a zone's offset added to
    /// the seconds) may lie past the range of an `Int64` of nanoseconds, never past that of its seconds.
    static func appendRFC3339(seconds: Int64, fraction: Int64, to out: inout [UInt8]) {
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: days)
        if (0...9999).contains(year) {
            // The usual case, written in one go: `YYYY-MM-DDTHH:MM:SS.fffffffffZ`, 30 bytes, two digits at a time.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 30) { text in
                Self.putPair(Int(year / 100), text, 0)
                Self.putPair(Int(year % 100), text, 2)
                text[4] = UInt8(ascii: "-")
                Self.putPair(Int(month), text, 5)
                text[7] = UInt8(ascii: "-")
                Self.putPair(Int(day), text, 8)
                text[10] = UInt8(ascii: "T")
                Self.putPair(Int(secondOfDay / 3600), text, 11)
                text[13] = UInt8(ascii: ":")
                Self.putPair(Int(secondOfDay / 60 % 60), text, 14)
                text[16] = UInt8(ascii: ":")
                Self.putPair(Int(secondOfDay % 60), text, 17)
                text[19] = UInt8(ascii: ".")
                let f = Int(fraction)
                text[20] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: f / 100_000_000)
                Self.putPair(f / 1_000_000 % 100, text, 21)
                Self.putPair(f / 10_000 % 100, text, 23)
                Self.putPair(f / 100 % 100, text, 25)
                Self.putPair(f % 100, text, 27)
                text[29] = UInt8(ascii: "Z")
                out.append(contentsOf: UnsafeBufferPointer(text))
            }
            return
        }
        Self.appendDigits(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.appendDigits(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.appendDigits(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        Self.appendDigits(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.appendDigits(secondOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        Self.appendDigits(fraction, width: 9, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// "00" through "99", for writing two digits at once.
    private static let digitPairs: [UInt8] = (0..<100).flatMap { (value: Int) -> [UInt8] in
        [UInt8(48 + value / 10), UInt8(48 + value % 10)]
    }

    @inline(__always)
    private static func putPair(_ value: Int, _ text: UnsafeMutableBufferPointer<UInt8>, _ at: Int) {
        Self.digitPairs.withUnsafeBufferPointer { pairs in
            text[at] = pairs[2 * value]
            text[at + 1] = pairs[2 * value + 1]
        }
    }

    /// Appends the decimal digits of a non-negative `value`, zero-padded to at least `width`, in place (no
    /// temporary array or string).
    package static func appendDigits(_ value: Int64, width: Int, to out: inout [UInt8]) {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        let end = out.count + max(count, width)
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(count, width)))
        out.withUnsafeMutableBufferPointer { buffer in
            var index = end - 1
            var rest = value
            repeat {
                buffer[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                index -= 1
            } while rest > 0
        }
    }
}

extension Timestamp {
    /// RFC 3339 with nanoseconds at a fixed offset east of UTC: `…T10:00:00.000000000+01:00` (`Z` at offset 0).
    public static func rfc3339(_ nanos: Int64, offsetSeconds: Int) -> String {
        guard offsetSeconds != 0 else { return Self.rfc3339(nanos) }
        // In seconds: an event time near either end of i64 plus the offset is past the range of its nanoseconds.
        let (seconds, fraction) = Self.split(nanos)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(35)
        Self.appendRFC3339(seconds: seconds + Int64(offsetSeconds), fraction: fraction, to: &bytes)
        let local = String(decoding: bytes.dropLast(), as: UTF8.self)
        let magnitude = abs(offsetSeconds)
        let hours = magnitude / 3600
        let minutes = magnitude / 60 % 60
        let sign = offsetSeconds < 0 ? "-" : "+"
        return local + sign + (hours < 10 ? "0" : "") + String(hours) + ":" + (minutes < 10 ? "0" : "")
            + String(minutes)
    }
}

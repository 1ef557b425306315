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

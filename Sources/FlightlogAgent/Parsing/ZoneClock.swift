import Foundation

/// Converts between UTC and the wall clock of one time zone, caching `TimeZone` answers per hour because
/// asking Foundation for every line is too slow.
final class ZoneClock: @unchecked Sendable {
    // @unchecked: the caches are only touched under `lock`; `timeZone` is immutable.
    private let timeZone: TimeZone
    /// Set when the zone has no daylight-saving transitions: no lookups at all.
    private let fixedOffset: Int64?
    private let lock = NSLock()
    private var offsetByUTCHour: [Int64: Int64] = [:]
    private var offsetByLocalHour: [Int64: Int64] = [:]
    private static let cacheLimit = 4_096

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
        let now = Date()
        let hasTransitions =
            timeZone.nextDaylightSavingTimeTransition(after: now.addingTimeInterval(-2 * 366 * 86_400)) != nil
        self.fixedOffset = hasTransitions ? nil : Int64(timeZone.secondsFromGMT(for: now))
    }

    /// The zone's offset east of UTC, in seconds, at the instant `utcSeconds`.
    func offset(atUTC utcSeconds: Int64) -> Int64 {
        if let fixedOffset { return fixedOffset }
        let hour = utcSeconds.floorDiv(3_600)
        self.lock.lock()
        defer { self.lock.unlock() }
        if let cached = self.offsetByUTCHour[hour] { return cached }
        let offset = Int64(self.timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(hour * 3_600))))
        if self.offsetByUTCHour.count >= Self.cacheLimit { self.offsetByUTCHour.removeAll() }
        self.offsetByUTCHour[hour] = offset
        return offset
    }

    /// The UTC instant of a wall-clock time in this zone (`localSeconds` = the civil time read as UTC).
    ///
    /// Around a transition the larger offset wins: a time in the hour repeated by a fall-back is its first
    /// occurrence, and a time in the hour skipped by a spring-forward lands an hour early.
    func utcSeconds(fromLocal localSeconds: Int64) -> Int64 {
        if let fixedOffset { return localSeconds - fixedOffset }
        let hour = localSeconds.floorDiv(3_600)
        self.lock.lock()
        let cached = self.offsetByLocalHour[hour]
        self.lock.unlock()
        if let cached { return localSeconds - cached }
        let base = hour * 3_600
        let guess = self.offset(atUTC: base)
        var offset = self.offset(atUTC: base - guess)
        if offset != guess {
            // Near a transition: prefer the larger offset (the first occurrence of a repeated hour).
            offset = max(offset, guess)
        }
        self.lock.lock()
        if self.offsetByLocalHour.count >= Self.cacheLimit { self.offsetByLocalHour.removeAll() }
        self.offsetByLocalHour[hour] = offset
        self.lock.unlock()
        return localSeconds - offset
    }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    @inline(__always)
    func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

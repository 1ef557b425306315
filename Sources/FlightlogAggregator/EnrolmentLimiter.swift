import FlightlogWire
import Synchronization

/// Failed enrolment attempts per source address: past `maxFailures` within `windowNanos`, an address is answered
/// `rateLimited` without its token being looked at, until the window passes. Tokens carry 160 random bits, so
/// guessing is hopeless anyway; the limit keeps a guesser from costing the database a write per attempt, and shows
/// in the log and in `flightlog status` (`enrolment_rate_limited`).
final class EnrolmentLimiter: Sendable {
    /// Failures an address may have within the window.
    static let maxFailures = 10
    /// The window: one minute.
    static let windowNanos: Int64 = 60_000_000_000
    /// Addresses remembered at most; the oldest are forgotten first (a spray from many addresses costs memory
    /// bounded by this).
    static let maxAddresses = 10_000

    private struct Entry {
        var failures: Int
        var since: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// Whether `address` may try a token now.
    func allows(_ address: String, nowNanos: Int64) -> Bool {
        self.entries.withLock { entries in
            guard let entry = entries[address] else { return true }
            if nowNanos.subtractingSaturating(entry.since) >= Self.windowNanos {
                entries[address] = nil
                return true
            }
            return entry.failures < Self.maxFailures
        }
    }

    /// Counts a failed attempt from `address`.
    func fail(_ address: String, nowNanos: Int64) {
        self.entries.withLock { entries in
            if entries.count >= Self.maxAddresses, entries[address] == nil,
                let oldest = entries.min(by: { $0.value.since < $1.value.since })?.key
            {
                entries[oldest] = nil
            }
            var entry = entries[address] ?? Entry(failures: 0, since: nowNanos)
            if nowNanos.subtractingSaturating(entry.since) >= Self.windowNanos {
                entry = Entry(failures: 0, since: nowNanos)
            }
            entry.failures += 1
            entries[address] = entry
        }
    }
}

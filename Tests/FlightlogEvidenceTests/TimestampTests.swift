import FlightlogEvidence
import Foundation
import Testing

@Suite("Timestamp: RFC 3339 in UTC with nanoseconds")
struct TimestampTests {
    /// The fast path against Foundation's calendar, on random times from 1900 to 2200 and on the edges.
    @Test func matchesTheCalendarOnRandomTimes() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        var generator = SystemRandomNumberGenerator()
        let edges: [Int64] = [0, 1, -1, 999_999_999, 1_000_000_000, -1_000_000_000, 951_782_400_000_000_000]
        let random = (0..<5000).map { _ in Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator) }
            .map { $0 * 1_000_000_000 + Int64.random(in: 0..<1_000_000_000, using: &generator) }
        for nanos in edges + random {
            var seconds = nanos / 1_000_000_000
            var fraction = nanos % 1_000_000_000
            if fraction < 0 {
                fraction += 1_000_000_000
                seconds -= 1
            }
            let parts = calendar.dateComponents(
                [.year, .month, .day, .hour, .minute, .second],
                from: Date(timeIntervalSince1970: TimeInterval(seconds))
            )
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ",
                parts.year ?? 0,
                parts.month ?? 0,
                parts.day ?? 0,
                parts.hour ?? 0,
                parts.minute ?? 0,
                parts.second ?? 0,
                Int(fraction)
            )
            #expect(Timestamp.rfc3339(nanos) == expected, "\(nanos)")
        }
    }

    @Test func yearsPastFourDigitsKeepTheSlowPath() {
        #expect(Timestamp.rfc3339(Int64.max).hasPrefix("2262-04-11T23:47:16.854775807Z"))
        #expect(Timestamp.rfc3339(Int64.min).hasSuffix("Z"))
    }

    @Test func timestampBytesAreTheString() {
        for nanos: Int64 in [0, 1, -1, 999_999_999, 1_795_000_000_123_456_789, -86_400_000_000_001, .max, .min] {
            var bytes: [UInt8] = []
            Timestamp.appendRFC3339(nanos, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == Timestamp.rfc3339(nanos))
        }
    }
}

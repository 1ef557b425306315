public import Foundation

/// Formats instants for output: UTC by default, or a named time zone (offset taken at each instant, so DST is right).
public struct TimeFormatter: Sendable {
    public let zone: TimeZone?

    /// UTC, `Z`-suffixed.
    public static let utc = TimeFormatter(zone: nil)

    public init(zone: TimeZone?) {
        self.zone = zone
    }

    public func format(_ nanos: Int64) -> String {
        guard let zone = self.zone else { return Timestamp.rfc3339(nanos) }
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(nanos / 1_000_000_000)))
        return Timestamp.rfc3339(nanos, offsetSeconds: offset)
    }
}

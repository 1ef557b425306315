public import FlightlogWire
import Foundation

// FlatJSON is internal; debug builds (the only kind scripts/fuzz.sh makes) are built for testing.
@testable import FlightlogAgent

/// The agent's line parser (``LineParser``, with ``FlatJSON`` behind its JSON lines) on every line of the input, in
/// UTC and in a zone with daylight-saving changes. Whatever a line holds, the event the agent makes of it must be one
/// the wire accepts (``EventCodec/validate(_:)``): at most 64 fields, keys and values within their limits. A JSON
/// line that ``FlatJSON`` reads must give exactly what the `JSONSerialization` path gives (as `FlatJSONTests` checks).
public enum LineTarget {
    static let parsers = [
        LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current),
        LineParser(timeZone: TimeZone(identifier: "America/New_York") ?? .current),
    ]
    /// 2026-12-07T00:00:00Z: a fixed read time, so that a crash replays the same way.
    static let observedNanos: Int64 = 1_796_601_600_000_000_000

    public static func run(_ data: UnsafeRawBufferPointer) {
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            Self.check(Array(line))
        }
    }

    /// Parses one line as the tailer hands it over (without its newline, at most one maximum line long).
    public static func check(_ line: [UInt8]) {
        guard line.count <= WireLimits.maxLineLength else { return }
        for parser in Self.parsers {
            let parsed = parser.parse(line, observedNanos: Self.observedNanos)
            let event = Event(
                timeNanos: parsed.timeNanos ?? Self.observedNanos,
                observedNanos: Self.observedNanos,
                flags: parsed.timeNanos == nil ? [] : .timeFromLine,
                host: "fuzz",
                source: "/var/log/fuzz.log",
                line: line,
                fields: parsed.fields
            )
            do {
                try EventCodec.validate(event)
            } catch {
                invariant(false, "the parser made an event the wire refuses (\(parsed.format)): \(error)")
            }
            if let members = line.withUnsafeBufferPointer(FlatJSON.parse) {
                let fast = parser.parseFlatJSON(members, observedNanos: Self.observedNanos)
                let reference = parser.parseJSONSerialization(line, observedNanos: Self.observedNanos)
                invariant(
                    fast == reference,
                    "FlatJSON and JSONSerialization disagree: \(fast) \(String(describing: reference))"
                )
            }
        }
    }
}

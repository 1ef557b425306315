import FlightlogEvidence
import FlightlogWire
import GRDB

/// Human-readable durations for notes: `1h27m`, `12m`, `45s`, `2.5s`.
public enum DurationText {
    public static func describe(_ nanos: Int64) -> String {
        let magnitude = nanos.magnitude
        let sign = nanos < 0 ? "-" : ""
        if magnitude < 60_000_000_000 {
            let tenths = magnitude / 100_000_000
            return sign + "\(tenths / 10)" + (tenths % 10 == 0 ? "" : ".\(tenths % 10)") + "s"
        }
        let minutes = magnitude / 60_000_000_000
        if minutes < 60 { return sign + "\(minutes)m" }
        let hours = minutes / 60
        if hours < 48 { return sign + "\(hours)h" + (minutes % 60 == 0 ? "" : "\(minutes % 60)m") }
        return sign + "\(hours / 24)d" + (hours % 24 == 0 ? "" : "\(hours % 24)h")
    }
}

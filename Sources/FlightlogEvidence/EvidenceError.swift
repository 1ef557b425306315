/// What FlightlogEvidence refuses: a checkpoint or its key that cannot be used, and a time or duration in none of
/// the accepted forms.
public enum EvidenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not a signed checkpoint note, or a key is not in the expected form.
    case malformed(String)
    /// The note names another log.
    case wrongOrigin(expected: String, found: String)
    /// No signature line verifies under the trusted key.
    case badSignature
    /// The key file could not be read or created.
    case keyFile(path: String, reason: String)
    /// A `--since`/`--until` value (or an exported time) in none of the accepted forms.
    case badTime(String)
    /// A duration (`--window`, `--silence`, `--bucket`, `--expires`) in none of the accepted forms.
    case badDuration(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed checkpoint: \(why)"
        case .wrongOrigin(let expected, let found): "checkpoint origin '\(found)' is not this log's '\(expected)'"
        case .badSignature: "checkpoint signature does not verify under the aggregator key"
        case .keyFile(let path, let reason): "aggregator key \(path): \(reason)"
        case .badTime(let text):
            "cannot read the time '\(text)': use RFC 3339 (2026-11-24T09:00:00Z), a date (2026-11-24), an age "
                + "(15m, 2h, 3d, 1w) or a time of day in UTC (11:00), between the years 1678 and 2261"
        case .badDuration(let text):
            "cannot read the duration '\(text)': use a number with s, m, h, d or w (90s, 10m, 2h, 3d, 1w), at most "
                + "292 years"
        }
    }
}

/// What an investigator's query can get wrong, each case explained in plain words.
public enum QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A `--since`/`--until` value in none of the accepted forms.
    case badTime(String)
    /// A duration (`--window`, `--silence`, `--bucket`) in none of the accepted forms.
    case badDuration(String)
    /// A `--where` condition that is not `field=value`, `field!=value` or `field~regex`.
    case badCondition(String)
    /// A regular expression that does not compile.
    case badRegex(pattern: String, reason: String)
    /// A `--match` expression SQLite's full-text engine refused.
    case badMatch(expression: String, reason: String)
    /// `--around` names an event id that is not stored.
    case unknownEvent(Int64)
    /// `--agent` names no enrolled agent.
    case unknownAgent(String)
    /// The database failed.
    case database(String)

    public var description: String {
        switch self {
        case .badTime(let text):
            "cannot read the time '\(text)': use RFC 3339 (2026-11-24T09:00:00Z), a date (2026-11-24), an age "
                + "(15m, 2h, 3d, 1w) or a time of day in UTC (11:00), between the years 1678 and 2261"
        case .badDuration(let text):
            "cannot read the duration '\(text)': use a number with s, m, h, d or w (90s, 10m, 2h, 3d, 1w), at most "
                + "292 years"
        case .badCondition(let text):
            "cannot read the condition '\(text)': use field=value, field!=value or field~regex, where the field "
                + "name is letters, digits, '_', '-' or '.' (example: --where action=login)"
        case .badRegex(let pattern, let reason):
            "the regular expression '\(pattern)' does not compile: \(reason)"
        case .badMatch(let expression, let reason):
            "the full-text search '\(expression)' is not valid FTS5 syntax (\(reason)). Put phrases and words with "
                + "punctuation in double quotes, e.g. --match '\"203.0.113.77\"' or --match '\"data loader\" AND mchen'; "
                + "operators are AND, OR, NOT (upper case) and a trailing * for a prefix"
        case .unknownEvent(let id): "no event with id \(id) is stored"
        case .unknownAgent(let name): "no agent named '\(name)' is enrolled (see `flightlog agents`)"
        case .database(let message): "database error: \(message)"
        }
    }
}

/// What an investigator's query can get wrong, each case explained in plain words.
public enum QueryError: Error, Equatable, Sendable, CustomStringConvertible {
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

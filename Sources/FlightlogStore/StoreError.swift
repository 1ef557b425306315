/// Everything the store can refuse or fail at, including what an investigator's query gets wrong (each case
/// explained in plain words).
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The database file could not be opened or created.
    case cannotOpen(path: String, reason: String)
    /// No agent has that name.
    case unknownAgent(name: String)
    /// An agent with that name or key is already enrolled.
    case alreadyEnrolled(name: String)
    /// A public key is not 32 bytes of valid base64.
    case invalidPublicKey(String)
    /// The agent is already revoked.
    case alreadyRevoked(name: String)
    /// SQLite reported an error.
    case database(String)
    /// A full-text index file (`DB.fts` or `DB.fts1`, derived from the stored events) is not a readable database. The
    /// evidence database itself is not affected.
    case fullTextDamaged(path: String, reason: String)
    /// An evidence bundle could not be completed (no checkpoint covers its batches, or the store disagrees with
    /// its own signed log); the message says what to do.
    case cannotExport(String)
    /// A `--where` condition that is not `field=value`, `field!=value` or `field~regex`.
    case badCondition(String)
    /// A regular expression that does not compile.
    case badRegex(pattern: String, reason: String)
    /// A `--match` expression SQLite's full-text engine refused.
    case badMatch(expression: String, reason: String)
    /// `--around` names an event id that is not stored.
    case unknownEvent(Int64)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open database \(path): \(reason)"
        case .unknownAgent(let name): "no agent named '\(name)' is enrolled (see `flightlog agents`)"
        case .alreadyEnrolled(let name): "an agent named '\(name)' or with that key is already enrolled"
        case .invalidPublicKey(let why): "invalid public key: \(why)"
        case .alreadyRevoked(let name): "agent '\(name)' is already revoked"
        case .database(let message): "database error: \(message)"
        case .cannotExport(let reason): "cannot complete the evidence bundle: \(reason)"
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
        case .fullTextDamaged(let path, let reason):
            "the full-text index \(path) is damaged (\(reason)). The evidence database is not affected: the index is "
                + "derived from it. `flightlog serve` moves a damaged index aside and rebuilds it when it starts; "
                + "until then, restart serve (or stop it and remove the file)"
        }
    }
}

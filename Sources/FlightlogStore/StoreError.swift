/// Everything the store can refuse or fail at.
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
    /// The full-text index file (`DB.fts`, derived from the stored events) is not a readable database. The
    /// evidence database itself is not affected.
    case fullTextDamaged(path: String, reason: String)
    /// An evidence bundle could not be completed (no checkpoint covers its batches, or the store disagrees with
    /// its own signed log); the message says what to do.
    case cannotExport(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open database \(path): \(reason)"
        case .unknownAgent(let name): "no agent named '\(name)' is enrolled"
        case .alreadyEnrolled(let name): "an agent named '\(name)' or with that key is already enrolled"
        case .invalidPublicKey(let why): "invalid public key: \(why)"
        case .alreadyRevoked(let name): "agent '\(name)' is already revoked"
        case .database(let message): "database error: \(message)"
        case .cannotExport(let reason): "cannot complete the evidence bundle: \(reason)"
        case .fullTextDamaged(let path, let reason):
            "the full-text index \(path) is damaged (\(reason)). The evidence database is not affected: the index is "
                + "derived from it. `flightlog serve` moves a damaged index aside and rebuilds it when it starts; "
                + "until then, restart serve (or stop it and remove the file)"
        }
    }
}

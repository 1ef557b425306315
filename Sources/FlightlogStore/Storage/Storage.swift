/// Everything the aggregator and the investigator's commands need from the evidence storage, as one value: the
/// protocols a second engine implements to serve all of them.
public protocol FlightlogStorage: EvidenceStore, TransparencyStore, EventReading, IntegrityChecking,
    AgentAdministration, EvidenceExporting, StoreCopySource
{
    /// Where the evidence is (for messages and the audit trail).
    var path: String { get }
    /// Whether the storage was opened immutable (read-only media): nothing, not even an audit or verify record,
    /// can be written.
    var isImmutable: Bool { get }
    /// Where full-text files found damaged at open were moved (``DamagedIndexPolicy/moveAsideAndRebuild``).
    var movedDamagedFullText: [String] { get }
    /// The full-text files left out of this open (``DamagedIndexPolicy/leaveOut``), and why.
    var leftOutFullText: [UnreadableIndexFile] { get }

    /// Waits until the full-text index holds every committed event.
    func drainFullTextIndex() async throws(StoreError)

    /// How far the full-text index is.
    func fullTextProgress() async throws(StoreError) -> FullTextProgress

    /// ``fullTextProgress()``, for synchronous callers (the command line).
    func fullTextProgressNow() throws -> FullTextProgress

    /// Empties the line and fields of rows that still hold them in clear (a store written before 2026-12-07) where
    /// they equal their signed batch's, so that each is kept once; a row that differs is left for `verify`. Runs in
    /// transactions of `rowsPerTransaction` rows beside a running `serve`, calling `progress` after each.
    func compactRows(
        rowsPerTransaction: Int,
        progress: @Sendable (RowCompaction) -> Void
    ) async throws(StoreError) -> RowCompaction
}

/// A full-text file that could not be read as a database.
public struct UnreadableIndexFile: Sendable, Equatable {
    public let path: String
    public let reason: String
}

/// What opening storage does with a full-text file (`DB.fts`, `DB.fts1`: derived from the stored events) that is
/// not a readable database.
public enum DamagedIndexPolicy: Sendable {
    /// Fail the open with ``StoreError/fullTextDamaged(path:reason:)`` (the commands that need the index).
    case fail
    /// Rename it `DB.fts.damaged-<time>` (kept, never deleted) and fill a new one from the stored events
    /// (`serve`, which must keep storing evidence).
    case moveAsideAndRebuild
    /// Open without it, leaving it untouched (`verify`, which still checks the evidence and reports the index,
    /// and the commands that do not need it).
    case leaveOut
}

/// Opens the evidence storage. One engine today: an SQLite file in WAL mode, with its full-text index in
/// `DB.fts` and `DB.fts1`.
public enum Storage {
    /// Opens (creating when needed) the database at `path` for writing and migrates it to the current schema; a
    /// damaged full-text file is handled as `onDamagedIndex` says.
    public static func open(
        path: String,
        onDamagedIndex: DamagedIndexPolicy = .fail
    ) throws(StoreError) -> any FlightlogStorage {
        try SQLiteStore(path: path, onDamagedIndex: onDamagedIndex)
    }

    /// Opens an existing database for reading only (immutable when the file is on read-only media).
    public static func openReadOnly(
        path: String,
        onDamagedIndex: DamagedIndexPolicy = .fail
    ) throws(StoreError) -> any FlightlogStorage {
        try SQLiteStore(readOnlyPath: path, onDamagedIndex: onDamagedIndex)
    }

    /// Whether `path` is on a read-only file system (a write-blocked evidence copy): it is then opened immutable.
    public static func isOnReadOnlyMedia(_ path: String) -> Bool { SQLiteStore.isOnReadOnlyMedia(path) }
}

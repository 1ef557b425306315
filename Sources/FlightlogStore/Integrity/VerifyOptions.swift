public import FlightlogEvidence

/// What `verify` is asked to check.
public struct VerifyOptions: Sendable {
    /// Full re-checks everything; incremental checks batches stored since the last clean full-scope run plus the
    /// tree's new nodes and every checkpoint's consistency.
    public enum Mode: String, Sendable, Codable {
        case full
        case incremental
    }

    public var mode: Mode
    /// Only batches of this agent (the tree and checkpoints are still checked whole).
    public var agentName: String?
    /// Only batches received at or after this time, ns.
    public var sinceNanos: Int64?
    /// Checkpoint notes from outside the database (`--checkpoints FILE`), as parsed.
    public var externalCheckpoints: [Result<SignedCheckpoint, EvidenceError>]
    /// The trusted aggregator key; nil when none could be found (reported as a finding when checkpoints exist).
    public var verifier: CheckpointVerifier?
    /// A checkpoint is due within this many ns of a batch being stored (missing checkpoints older than this are
    /// findings).
    public var checkpointGraceNanos: Int64
    /// The time the run starts, ns.
    public var nowNanos: Int64
    /// Called with (batches done, batches in scope) every few batches, from the reading thread.
    public var progress: (@Sendable (Int, Int) -> Void)?
    /// Also run SQLite's `PRAGMA integrity_check` on the database and the full-text file: every B-tree index entry
    /// against its table row, every page. Costs about as much again as a full run.
    public var deep = false

    public init(
        mode: Mode = .full,
        agentName: String? = nil,
        sinceNanos: Int64? = nil,
        externalCheckpoints: [Result<SignedCheckpoint, EvidenceError>] = [],
        verifier: CheckpointVerifier?,
        checkpointGraceNanos: Int64 = 600_000_000_000,
        nowNanos: Int64,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) {
        self.mode = mode
        self.agentName = agentName
        self.sinceNanos = sinceNanos
        self.externalCheckpoints = externalCheckpoints
        self.verifier = verifier
        self.checkpointGraceNanos = checkpointGraceNanos
        self.nowNanos = nowNanos
        self.progress = progress
    }

    /// Whether every batch is in scope (no agent or time filter).
    var isWholeStore: Bool { self.agentName == nil && self.sinceNanos == nil }
}

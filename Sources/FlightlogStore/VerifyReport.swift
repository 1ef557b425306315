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

/// The outcome of one `verify` run.
public struct VerifyReport: Sendable, Codable, Equatable {
    /// Mode actually run (incremental falls back to full when no clean run exists yet).
    public var mode: VerifyOptions.Mode
    /// `all`, or the agent / since filter.
    public var scope: String
    public var findings: [IntegrityFinding]
    public var batchesChecked: Int
    public var eventsChecked: Int
    /// Bytes of stored envelopes checked.
    public var bytesChecked: Int
    public var treeSize: UInt64
    public var checkpointsChecked: Int
    public var startedNanos: Int64
    public var finishedNanos: Int64
    /// Events committed but not yet in the full-text index when the run started: their index entries were not
    /// checked (the indexer trails the commit; see `FullTextIndexer`).
    public var fullTextLag: Int64 = 0
    /// Whether the run is recorded in `verify_runs` (not on a copy opened from read-only media).
    public var recorded = true

    /// Exit status: 0 clean, 1 findings.
    public var isClean: Bool { self.findings.isEmpty }

    /// `verify: clean — …` or `verify: N findings (kind ×n, …) — …`.
    public var summary: String {
        let seconds = Double(self.finishedNanos - self.startedNanos) / 1e9
        let counts =
            "\(self.batchesChecked) batches, \(self.eventsChecked) events, \(self.bytesChecked) bytes, tree size "
            + "\(self.treeSize), \(self.checkpointsChecked) checkpoints, \(self.mode.rawValue), scope \(self.scope), "
            + String(format: "%.2f s", seconds)
            + (self.fullTextLag > 0 ? ", full-text index trailing by \(self.fullTextLag) events (not checked)" : "")
            + (self.recorded ? "" : ", not recorded (read-only media)")
        if self.findings.isEmpty { return "verify: clean — " + counts }
        var byKind: [IntegrityFinding.Kind: Int] = [:]
        for finding in self.findings { byKind[finding.kind, default: 0] += 1 }
        let kinds = IntegrityFinding.Kind.allCases.compactMap { kind in byKind[kind].map { "\(kind.rawValue) ×\($0)" } }
        return "verify: \(self.findings.count) findings (\(kinds.joined(separator: ", "))) — " + counts
    }
}

/// One recorded `verify` run, for `--history`.
public struct VerifyRun: Sendable, Codable, Equatable {
    public var id: Int64
    public var startedNanos: Int64
    public var finishedNanos: Int64
    public var mode: String
    public var scope: String
    /// `clean` or `findings`.
    public var outcome: String
    public var batches: Int64
    public var events: Int64
    public var findings: Int64
    public var treeSize: Int64
    public var summary: String
}

import FlightlogEvidence
import Foundation

/// The outcome of one `verify` run.
public struct VerifyReport: Sendable, Codable, Equatable {
    /// Mode actually run (incremental falls back to full when no clean run exists yet).
    public var mode: VerifyOptions.Mode
    /// `all`, or the agent / since filter.
    public var scope: String
    public var findings: [VerifyFinding]
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
    /// Why it is not, when that is not read-only media (a store with no verify history).
    public var notRecordedBecause: String?

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
            + (self.recorded ? "" : ", not recorded (\(self.notRecordedBecause ?? "read-only media"))")
        if self.findings.isEmpty { return "verify: clean — " + counts }
        var byKind: [VerifyFinding.Kind: Int] = [:]
        for finding in self.findings { byKind[finding.kind, default: 0] += 1 }
        let kinds = VerifyFinding.Kind.allCases.compactMap { kind in byKind[kind].map { "\(kind.rawValue) ×\($0)" } }
        return "verify: \(self.findings.count) findings (\(kinds.joined(separator: ", "))) — " + counts
    }
}

extension VerifyReport {
    /// A report made by another storage engine (the SQLite store builds its own).
    public init(
        mode: VerifyOptions.Mode,
        scope: String,
        findings: [VerifyFinding],
        batchesChecked: Int,
        eventsChecked: Int,
        bytesChecked: Int,
        treeSize: UInt64,
        checkpointsChecked: Int,
        startedNanos: Int64,
        finishedNanos: Int64
    ) {
        self.mode = mode
        self.scope = scope
        self.findings = findings
        self.batchesChecked = batchesChecked
        self.eventsChecked = eventsChecked
        self.bytesChecked = bytesChecked
        self.treeSize = treeSize
        self.checkpointsChecked = checkpointsChecked
        self.startedNanos = startedNanos
        self.finishedNanos = finishedNanos
    }
}

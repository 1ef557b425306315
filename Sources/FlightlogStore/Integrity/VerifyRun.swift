import FlightlogEvidence

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

    /// The run in words, as a report's custody section names the last one.
    public var description: String {
        "\(Timestamp.rfc3339(self.finishedNanos)): \(self.mode) \(self.scope), \(self.outcome) (\(self.findings) "
            + "findings over \(self.batches) batches and \(self.events) events)"
    }

    package init(
        id: Int64,
        startedNanos: Int64,
        finishedNanos: Int64,
        mode: String,
        scope: String,
        outcome: String,
        batches: Int64,
        events: Int64,
        findings: Int64,
        treeSize: Int64,
        summary: String
    ) {
        self.id = id
        self.startedNanos = startedNanos
        self.finishedNanos = finishedNanos
        self.mode = mode
        self.scope = scope
        self.outcome = outcome
        self.batches = batches
        self.events = events
        self.findings = findings
        self.treeSize = treeSize
        self.summary = summary
    }
}

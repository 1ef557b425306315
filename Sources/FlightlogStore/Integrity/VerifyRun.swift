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
}

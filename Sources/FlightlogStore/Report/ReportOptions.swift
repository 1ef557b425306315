public import FlightlogEvidence
public import FlightlogSigma

/// What `flightlog export` asks of the HTML report besides the selection: the hunt to run, the silence threshold,
/// the bounds, and who and what made it.
public struct ReportOptions: Sendable {
    /// The Sigma rules to run over the selection, pipelines applied; ignored when `rulePaths` is empty.
    public var rules: [SigmaRule]
    /// Where they were loaded from (`export --rules`); empty: no hunt, and the report says how to run one.
    public var rulePaths: [String]
    /// Mark an agent silent after this long without events, as `timeline --silence`; nil: no silences.
    public var silenceNanos: Int64?
    public var limits: ReportLimits
    /// The operating-system user exporting.
    public var who: String
    /// The command line.
    public var command: [String]
    /// The filters as `name=value` lines.
    public var filters: [String]

    public init(
        rules: [SigmaRule] = [],
        rulePaths: [String] = [],
        silenceNanos: Int64? = 600_000_000_000,
        limits: ReportLimits = .standard,
        who: String,
        command: [String],
        filters: [String]
    ) {
        self.rules = rules
        self.rulePaths = rulePaths
        self.silenceNanos = silenceNanos
        self.limits = limits
        self.who = who
        self.command = command
        self.filters = filters
    }

    /// What made the report: the program, the bundle format it writes and the report's own format.
    public static let generator = "flightlog export (\(BundleFormat.current), report \(BundleFormat.reportFormat))"
}

/// One line read from a file: its bytes exactly as written, without the terminating `"\n"`.
public struct TailedLine: Sendable {
    /// The path the line was read from.
    public var source: String
    /// The raw bytes (any encoding, a trailing `"\r"` kept), at most ``TailerOptions/maxLineLength`` long.
    public var bytes: [UInt8]
    /// When the tailer read the line, ns since the Unix epoch (the `nowNanos` passed to ``Tailer/poll(maxLines:maxBytes:nowNanos:)``).
    public var observedNanos: Int64
    /// This part continues an over-long line whose previous part was handed out before.
    public var isSplitContinuation: Bool
    /// This is one part of an over-long line that was split into ``TailerOptions/maxLineLength`` pieces.
    public var isSplitPart: Bool
    /// This is the last part of a split line (its newline was reached, or the file ended for good); concatenating
    /// the parts from the first ``isSplitPart`` line up to this one gives the original line.
    public var isSplitLast: Bool

    /// Creates a line.
    public init(
        source: String,
        bytes: [UInt8],
        observedNanos: Int64,
        isSplitContinuation: Bool = false,
        isSplitPart: Bool = false,
        isSplitLast: Bool = false
    ) {
        self.source = source
        self.bytes = bytes
        self.observedNanos = observedNanos
        self.isSplitContinuation = isSplitContinuation
        self.isSplitPart = isSplitPart
        self.isSplitLast = isSplitLast
    }
}

public import FlightlogWire

/// What a ``Tailer`` watches and how.
public struct TailerOptions: Sendable {
    /// Shell globs (`glob(3)`) naming the files to tail; rescanned on every poll.
    public var globs: [String]
    /// Start files found by the very first scan of a tailer without saved state at their last complete line
    /// instead of at 0. Files discovered later, or when resuming from a state, are always read from 0.
    public var startAtEnd: Bool
    /// Longest line handed out; longer lines are split into parts of this size (never dropped).
    public var maxLineLength: Int
    /// Hand out an unterminated last line of a file once that file was rotated away or deleted and fully read.
    public var partialLineFlushAfterRotation: Bool
    /// Most files held open at once; files discovered beyond this are picked up when others close.
    public var maxOpenFiles: Int

    /// Creates options.
    public init(
        globs: [String],
        startAtEnd: Bool = false,
        maxLineLength: Int = WireLimits.maxLineLength,
        partialLineFlushAfterRotation: Bool = true,
        maxOpenFiles: Int = 256
    ) {
        self.globs = globs
        self.startAtEnd = startAtEnd
        self.maxLineLength = max(1, min(maxLineLength, WireLimits.maxLineLength))
        self.partialLineFlushAfterRotation = partialLineFlushAfterRotation
        self.maxOpenFiles = max(1, maxOpenFiles)
    }
}

/// A lifecycle fact about a tailed file, which the agent ships as its own event.
public enum TailNotice: Sendable, Equatable {
    /// Started tracking a file, reading from `fromOffset`.
    case opened(path: String, fromOffset: UInt64)
    /// The file at `path` was renamed away (and usually replaced); it is read to its end before its successor.
    case rotated(path: String)
    /// The file shrank below what was read (copytruncate or truncation); reading restarts at 0.
    case truncated(path: String, oldOffset: UInt64, newSize: UInt64)
    /// The file was deleted (or is no longer reachable); everything readable through the open descriptor was read.
    case vanished(path: String)
    /// A line longer than the limit was handed out in parts; `length` is the total bytes of that line.
    case lineSplit(path: String, length: Int)
    /// Opening or reading failed; `message` is the `strerror` text.
    case readError(path: String, message: String)
}

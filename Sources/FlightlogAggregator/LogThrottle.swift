import NIOCore

/// Decides when a repeated warning is worth a log line: the first time, then at most once per `interval`, carrying
/// the number of occurrences since the line before. A fleet retrying against a full server, or a process out of
/// file descriptors, then writes a few lines a minute rather than one per attempt; the counters keep every one.
struct LogThrottle {
    private let interval: TimeAmount
    private var lastLogged: NIODeadline?
    private var unlogged = 0

    init(interval: TimeAmount = .seconds(10)) {
        self.interval = interval
    }

    /// Records one occurrence; returns how many occurred since the last line when this one should be logged.
    mutating func note(now: NIODeadline = .now()) -> Int? {
        self.unlogged += 1
        guard self.lastLogged.map({ now - $0 >= self.interval }) ?? true else { return nil }
        defer {
            self.lastLogged = now
            self.unlogged = 0
        }
        return self.unlogged
    }
}

/// The spool at one moment, as the shipper decides on it (``Journal/spoolSnapshot(after:limit:)``).
public struct SpoolSnapshot: Equatable, Sendable {
    /// How many commits and acknowledgements the journal had seen: later snapshots have larger values, and
    /// ``Journal/waitForChange(after:)`` with it misses no later change.
    public var change: UInt64
    /// Batches in the spool, sent or not: a batch leaves it only when acknowledged.
    public var batches: Int
    /// Spooled sequences above the one asked for, oldest first, at most as many as asked for.
    public var sequences: [UInt64]

    public init(change: UInt64, batches: Int, sequences: [UInt64]) {
        self.change = change
        self.batches = batches
        self.sequences = sequences
    }
}

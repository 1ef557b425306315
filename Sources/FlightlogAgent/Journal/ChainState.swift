public import FlightlogWire

/// What the agent commits atomically with every batch: the chain position and the file offsets and journal cursor
/// the batch covers.
///
/// Stored as `chain.json` in the state directory. Its rename is the commit point of a batch: a spool file whose
/// sequence is not below `nextSequence` is an orphan of a crash before the commit, never shipped, and is deleted
/// on start (its lines are read again from the files, so nothing is lost and nothing is built twice).
public struct ChainState: Codable, Sendable, Equatable {
    /// Format of this file.
    public var version: Int
    /// The chain's epoch, chosen when the chain was created (PROTOCOL.md §8).
    public var epoch: UInt64
    /// The sequence the next batch gets.
    public var nextSequence: UInt64
    /// Hex of the hash of the last batch built (zero hash before the first).
    public var headHash: String
    /// File offsets just after the last line in a built batch.
    public var tailer: TailerState
    /// The systemd journal's cursor just after the last entry in a built batch (nil: no journal source yet; a
    /// state file written before the journal source has none).
    public var journal: JournalPosition?
    /// When the chain was created, ns since the Unix epoch.
    public var createdNanos: Int64

    public init(epoch: UInt64, createdNanos: Int64) {
        self.version = 1
        self.epoch = epoch
        self.nextSequence = 1
        self.headHash = Bytes32.zero.hex
        self.tailer = TailerState()
        self.createdNanos = createdNanos
    }

    /// The head hash as bytes.
    public var head: Bytes32 { Bytes32(hex: self.headHash) ?? .zero }
}

import FlightlogSystem
public import FlightlogWire
import Foundation
import Glibc
import Synchronization

/// The agent's durable state: the chain position, the tailer offsets, the journal cursor and the spool of built,
/// unacknowledged batches, advanced together (see ``ChainState``).
///
/// Layout of the state directory:
/// ```
/// chain.json                       ChainState, replaced atomically
/// spool/00000000000000000042.flb   one signed batch envelope per file, named by sequence
/// unstored                         "EPOCH SEQUENCE": the batch an aggregator said it did not store
/// status.json                      counters of the running agent (informational)
/// ```
public actor Journal {
    /// The state directory.
    public nonisolated let directory: String
    /// The spool's cap (`spool_max_bytes`): past it, reading pauses.
    nonisolated let maxSpoolBytes: Int
    private(set) var state: ChainState
    private var spooled: [UInt64: Int] = [:]
    private(set) var spoolBytes = 0
    /// Commits and acknowledgements so far: what ``waitForChange(after:)`` compares against.
    private var changes: UInt64 = 0
    private var nextWaiter = 0
    /// Tasks suspended in ``waitForChange(after:)``, by a number of their own. Behind a lock rather than isolated
    /// to the actor because a cancellation handler, which runs outside it, takes its waiter out and resumes it.
    private nonisolated let waiters = Mutex<[Int: CheckedContinuation<Void, Never>]>([:])

    /// Largest chain.json accepted on load.
    static let maxStateFileLength = 64 * 1024 * 1024
    /// Largest spool file accepted on load: a batch envelope within a frame.
    static let maxSpoolFileLength = WireLimits.maxFrameLength

    var statePath: String { self.directory + "/chain.json" }
    nonisolated var unstoredPath: String { self.directory + "/unstored" }
    /// What the `unstored` file held at start, or ``noteUnstored(_:)`` set since.
    private var unstoredSequence: UInt64?
    nonisolated var spoolDirectory: String { self.directory + "/spool" }

    /// Opens the state directory, creating a fresh chain (new epoch) when it holds none, and removes spool files
    /// left by a crash before their commit.
    public init(directory: String, maxSpoolBytes: Int, nowNanos: Int64) throws(AgentError) {
        self.directory = directory
        self.maxSpoolBytes = maxSpoolBytes
        try DurableFile.makeDirectory(directory)
        try DurableFile.makeDirectory(directory + "/spool")
        let path = directory + "/chain.json"
        if let bytes = try DurableFile.read(path, limit: Self.maxStateFileLength) {
            do {
                self.state = try JSONDecoder().decode(ChainState.self, from: Data(bytes))
            } catch {
                throw AgentError.badState(
                    path: path,
                    reason: "unreadable (\(error)); move it away to start a new chain"
                )
            }
            guard self.state.version == 1 else {
                throw AgentError.badState(path: path, reason: "format version \(self.state.version) is not supported")
            }
            // Sequences start at 1 (PROTOCOL.md §8) and the next one must exist: 0 or 2^64 − 1 was written by hand
            // or by damage, and would make the next batch's arithmetic overflow.
            guard (1..<UInt64.max).contains(self.state.nextSequence) else {
                throw AgentError.badState(
                    path: path,
                    reason: "nextSequence \(self.state.nextSequence) is outside 1 … 2^64 − 2; move it away to start a "
                        + "new chain"
                )
            }
        } else {
            // A fresh chain: the epoch is the creation time, unique per agent in practice and readable by people.
            self.state = ChainState(epoch: UInt64(max(nowNanos, 1)), createdNanos: nowNanos)
            try DurableFile.write(try Self.encode(self.state), to: path)
        }
        let (spooled, bytes) = try Self.loadSpool(directory + "/spool", nextSequence: self.state.nextSequence)
        self.spooled = spooled
        self.spoolBytes = bytes
        // Another chain's (a new epoch after the file was written) or unreadable: nothing to resend.
        if let bytes = try? DurableFile.read(directory + "/unstored", limit: 64),
            case let words = String(decoding: bytes, as: UTF8.self).split(separator: " "), words.count == 2,
            UInt64(words[0]) == self.state.epoch, let sequence = UInt64(words[1])
        {
            self.unstoredSequence = sequence
        }
    }

    /// The batch of this chain the last aggregator answered ERROR `storageFailure` (not stored), while the spool
    /// still holds it: sent again whatever the next WELCOME names (PROTOCOL.md §7.3 rule 3), after a restart too.
    /// Nil once the batch is acknowledged (an aggregator that stores it acknowledges it; the spool drops it).
    public var unstored: UInt64? {
        guard let sequence = self.unstoredSequence, self.spooled[sequence] != nil else { return nil }
        return sequence
    }

    /// Keeps `sequence` as ``unstored``, or forgets it: in memory at once, then in the state directory (written
    /// durably, so that a restart still sends it again); throws if the file cannot be written or removed.
    public func noteUnstored(_ sequence: UInt64?) throws(AgentError) {
        self.unstoredSequence = sequence
        if let sequence {
            try DurableFile.write(Array("\(self.state.epoch) \(sequence)".utf8), to: self.unstoredPath)
        } else if unlink(self.unstoredPath) != 0 && errno != ENOENT {
            throw AgentError.io(path: self.unstoredPath, reason: DurableFile.errnoText())
        }
    }

    private static func loadSpool(
        _ spoolDirectory: String,
        nextSequence: UInt64
    ) throws(AgentError) -> ([UInt64: Int], Int) {
        guard let spooled = Self.committedBatches(in: spoolDirectory, nextSequence: nextSequence, removingOthers: true)
        else {
            throw AgentError.io(path: spoolDirectory, reason: "cannot list")
        }
        return (spooled, spooled.values.reduce(0, +))
    }

    /// The committed batches in the spool of `directory` whose chain is at `nextSequence`, read without opening the
    /// journal (which takes no lock and removes nothing): what a stopped agent has not shipped yet. Counts exactly
    /// the files ``init(directory:maxSpoolBytes:nowNanos:)`` would load; nil when the spool cannot be listed.
    public static func unsentBatches(directory: String, nextSequence: UInt64) -> (batches: Int, bytes: Int)? {
        Self.committedBatches(in: directory + "/spool", nextSequence: nextSequence, removingOthers: false).map {
            ($0.count, $0.values.reduce(0, +))
        }
    }

    /// The committed batch files of a spool folder, their bytes by sequence: `N.flb` below `nextSequence`. Nil when
    /// the folder cannot be listed. `removingOthers` deletes the rest: temp files of an interrupted write, and
    /// batches built but never committed (their lines are read again).
    private static func committedBatches(
        in spoolDirectory: String,
        nextSequence: UInt64,
        removingOthers: Bool
    ) -> [UInt64: Int]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: spoolDirectory) else { return nil }
        var spooled: [UInt64: Int] = [:]
        for name in names {
            let path = spoolDirectory + "/" + name
            guard name.hasSuffix(".flb"), let sequence = UInt64(name.dropLast(4)), sequence < nextSequence else {
                if removingOthers { unlink(path) }
                continue
            }
            guard let size = FileStatus.of(path: path)?.size else { continue }
            spooled[sequence] = Int(clamping: size)
        }
        return spooled
    }

    private static func encode(_ state: ChainState) throws(AgentError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Array(try encoder.encode(state))
        } catch {
            throw AgentError.io(path: "chain.json", reason: "cannot encode state: \(error)")
        }
    }

    private func spoolPath(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return self.spoolDirectory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".flb"
    }

    /// Starts a new chain at `epoch` (a key rotation): sequence 1, the zero hash, the same file offsets, so that
    /// no line is read twice. Only with an empty spool: its batches belong to the old chain.
    public func startChain(epoch: UInt64, nowNanos: Int64) throws(AgentError) {
        guard self.spooled.isEmpty else {
            throw AgentError.badState(path: self.statePath, reason: "the spool must be empty to start a new chain")
        }
        var next = ChainState(epoch: epoch, createdNanos: nowNanos)
        next.tailer = self.state.tailer
        next.journal = self.state.journal
        try DurableFile.write(try Self.encode(next), to: self.statePath)
        self.state = next
    }

    // MARK: - Building side

    /// The chain position the next batch is built at.
    public var nextBatch: (epoch: UInt64, sequence: UInt64, previous: Bytes32, tailer: TailerState) {
        (self.state.epoch, self.state.nextSequence, self.state.head, self.state.tailer)
    }

    /// The journal cursor committed with the last batch.
    public var journalPosition: JournalPosition? { self.state.journal }

    /// Whether the spool is at its cap: the collector stops reading until acks free space.
    public var isFull: Bool { self.spoolBytes >= self.maxSpoolBytes }

    /// Spool depth and size.
    public var spoolStatus: (batches: Int, bytes: Int) { (self.spooled.count, self.spoolBytes) }

    /// Commits `batch` (which must be built at ``nextBatch``) with the tailer offsets and journal cursor it covers
    /// (nil: keep the committed one): the spool file is durable first, then the state rename makes them all visible
    /// at once.
    public func commit(
        _ batch: SignedBatch,
        tailer: TailerState,
        journal: JournalPosition? = nil
    ) throws(AgentError) {
        guard batch.sequence == self.state.nextSequence, batch.epoch == self.state.epoch else {
            throw AgentError.badState(path: self.statePath, reason: "batch \(batch.sequence) built out of order")
        }
        // 2^64 − 1 is the last sequence there is (§8): a state file edited to reach it ends here, not in a trap.
        guard batch.sequence < UInt64.max else {
            throw AgentError.badState(
                path: self.statePath,
                reason: "the chain has used its last sequence; move the state away to start a new chain"
            )
        }
        let path = self.spoolPath(batch.sequence)
        try DurableFile.write(batch.bytes, to: path)
        Failpoint.hit("agent.commit.after-spool-write")
        var next = self.state
        next.nextSequence = batch.sequence + 1
        next.headHash = batch.hash.hex
        next.tailer = tailer
        if let journal { next.journal = journal }
        try DurableFile.write(try Self.encode(next), to: self.statePath) {
            Failpoint.hit("agent.commit.state-synced-before-rename")
        }
        self.state = next
        self.spooled[batch.sequence] = batch.bytes.count
        self.spoolBytes += batch.bytes.count
        self.changed()
    }

    // MARK: - Shipping side

    /// The spool as the shipper decides on it: the change it was taken at, its depth, and the committed spooled
    /// sequences above `sequence`, oldest first, at most `limit`.
    public func spoolSnapshot(after sequence: UInt64, limit: Int) -> SpoolSnapshot {
        SpoolSnapshot(
            change: self.changes,
            batches: self.spooled.count,
            sequences: limit > 0 ? Array(self.spooled.keys.filter { $0 > sequence }.sorted().prefix(limit)) : []
        )
    }

    /// The oldest spooled sequence.
    public var oldestSpooled: UInt64? { self.spooled.keys.min() }

    /// The envelope of a spooled batch, byte for byte as built.
    public func envelope(_ sequence: UInt64) throws(AgentError) -> [UInt8] {
        guard let bytes = try DurableFile.read(self.spoolPath(sequence), limit: Self.maxSpoolFileLength) else {
            throw AgentError.io(path: self.spoolPath(sequence), reason: "spooled batch is missing")
        }
        return bytes
    }

    /// Removes every spooled batch up to and including `sequence`: the aggregator holds them durably. Returns how many
    /// were still spooled.
    @discardableResult
    public func acknowledge(through sequence: UInt64) -> Int {
        var removed = 0
        for stored in self.spooled.keys where stored <= sequence {
            unlink(self.spoolPath(stored))
            self.spoolBytes -= self.spooled[stored] ?? 0
            self.spooled[stored] = nil
            removed += 1
        }
        self.changed()
        return removed
    }

    // MARK: - Waiting for a change

    /// Suspends until a batch is committed or acknowledged after the snapshot whose ``SpoolSnapshot/change`` is
    /// `change`, or until the task is cancelled.
    ///
    /// Returns at once when that happened already, so a decision to wait taken on a snapshot misses nothing that
    /// changed between the snapshot and the wait.
    public func waitForChange(after change: UInt64) async {
        guard self.changes == change, !Task.isCancelled else { return }
        let id = self.nextWaiter
        self.nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // This runs on the actor, so no commit or acknowledgement comes between this check and the
                // registration, and `changed()` finds the continuation.
                let changed = self.changes != change
                let registered = self.waiters.withLock { waiters in
                    // Cancelled before the handler below could find the continuation: it never will.
                    guard !changed, !Task.isCancelled else { return false }
                    waiters[id] = continuation
                    return true
                }
                if !registered { continuation.resume() }
            }
        } onCancel: {
            self.waiters.withLock { $0.removeValue(forKey: id) }?.resume()
        }
    }

    private func changed() {
        self.changes += 1
        let waiting = self.waiters.withLock { waiters in
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for waiter in waiting { waiter.resume() }
    }
}

import CoreMetrics
import FlightlogStore
import FlightlogSystem
import FlightlogWire
import Logging

/// Merges verified batches from every connection into few durable transactions (group commit).
///
/// Connections `enqueue` a batch with a reply and carry on reading; the committer's `run()` loop takes whatever has
/// accumulated (up to `maxBatchesPerCommit`), stores it in one transaction and replies only after the commit
/// returned, so that an ACK always means durable.
///
/// Each session's batches come through its ``IngestLane``: when one is not stored (a failed commit, a refusal), its
/// later batches are answered at once without being stored, those already queued and those queued after
/// (PROTOCOL.md §7.4 rule 4).
///
/// Memory: before a connection inflates and decodes a batch it calls ``reserve(_:)`` with the batch's estimated
/// size in memory, which suspends while more than `maxPendingBytes` are reserved: the connection then holds only
/// the compressed frame, stops reading, and TCP pushes back on the agent. Decoding first and waiting after, as
/// before, let every connection hold a decoded batch while it waited: 1,000 connections with one 1 MB batch each
/// took the process from 2.0 to 9.7 GB.
actor GroupCommitter {
    /// Receives the outcome of a queued batch once its transaction committed or failed. A session passes one that
    /// yields into its own event stream (an `AsyncStream` continuation): it returns at once and never blocks the
    /// commit loop.
    typealias Reply = @Sendable (Result<IngestOutcome, AggregatorError>) -> Void

    private struct Pending {
        var item: IngestItem
        var lane: IngestLane
        var reply: Reply
        var bytes: Int
        /// When it was queued, for ``AggregatorMetrics/batchDurableLatency``.
        var queued: ContinuousClock.Instant
    }

    private let store: any EvidenceStore
    private let logger: Logger
    private let metrics: AggregatorMetrics
    private let maxBatchesPerCommit: Int
    private let maxEventsPerCommit: Int
    private let maxPendingBytes: Int

    private var pending: [Pending] = []
    private var pendingBytes = 0
    private var wakeUp: CheckedContinuation<Void, Never>?
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var stopping = false
    private var failureLog = LogThrottle()

    init(store: any EvidenceStore, configuration: AggregatorConfiguration, metrics: AggregatorMetrics, logger: Logger) {
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.maxBatchesPerCommit = configuration.maxBatchesPerCommit
        self.maxEventsPerCommit = configuration.maxEventsPerCommit
        self.maxPendingBytes = configuration.maxPendingBytes
    }

    /// The memory a batch takes once decoded, with its rows' column spans, while it waits for the database, plus the
    /// envelope. Since rows are located in the payload in place (``IngestItem``), ~200-byte syslog lines took ~2.5
    /// times the uncompressed payload with each row's `fields` JSON (measured: 1.09 MB for a 441 kB payload of 1,000
    /// events), less since the JSON is no longer made at ingest; it was ~7.5 times with a `String` per value. The
    /// estimate stays at 8: a payload of many tiny fields takes several times it (32 bytes of layout per field of at
    /// least 4 bytes), and the budget must hold for those too.
    static func estimatedBytes(_ batch: SignedBatch) -> Int {
        batch.bytes.count + 8 * batch.uncompressedLength
    }

    /// Waits until less than `maxPendingBytes` is reserved, then reserves `bytes` for a batch about to be decoded
    /// and queued; false when shutting down (nothing reserved). Pass the same `bytes` to ``enqueue(_:bytes:reply:)``
    /// or give them back with ``release(_:)``.
    func reserve(_ bytes: Int) async -> Bool {
        if self.pendingBytes >= self.maxPendingBytes && !self.stopping {
            self.metrics.add("connections_waiting_for_memory")
            defer { self.metrics.add("connections_waiting_for_memory", -1) }
            while self.pendingBytes >= self.maxPendingBytes && !self.stopping {
                await withCheckedContinuation { self.spaceWaiters.append($0) }
            }
        }
        if self.stopping { return false }
        self.pendingBytes += bytes
        return true
    }

    /// Gives back a reservation that will not be queued (the batch did not decode).
    func release(_ bytes: Int) {
        self.pendingBytes -= bytes
        self.wakeSpaceWaiters()
    }

    /// Queues `item`, whose `bytes` were reserved, behind the earlier batches of its session's `lane`; `reply` is
    /// called after the transaction holding it commits (or fails), or at once when an earlier batch of the lane was
    /// not stored.
    func enqueue(_ item: IngestItem, bytes: Int, lane: IngestLane, reply: @escaping Reply) {
        if self.stopping {
            self.release(bytes)
            lane.halt(at: item.batch.sequence)
            reply(.failure(.shuttingDown))
            return
        }
        if let halted = lane.halted {
            self.release(bytes)
            self.metrics.add("batches_held_back")
            reply(.failure(.heldBack(sequence: item.batch.sequence, after: halted)))
            return
        }
        self.pending.append(Pending(item: item, lane: lane, reply: reply, bytes: bytes, queued: .now))
        self.metrics.set("commit_queue_batches", Int64(self.pending.count))
        self.wakeUp?.resume()
        self.wakeUp = nil
    }

    /// Commits until ``shutdownWhenIdle()`` was called and nothing is pending.
    func run() async {
        await self.commitLoop()
    }

    /// Lets ``run()`` return once everything queued so far is committed. Call it after every session has ended.
    func shutdownWhenIdle() {
        self.stopping = true
        self.wakeUp?.resume()
        self.wakeUp = nil
        for waiter in self.spaceWaiters { waiter.resume() }
        self.spaceWaiters.removeAll()
    }

    private func wakeSpaceWaiters() {
        guard self.pendingBytes < self.maxPendingBytes else { return }
        for waiter in self.spaceWaiters { waiter.resume() }
        self.spaceWaiters.removeAll()
    }

    /// How many of the pending batches go into the next transaction: at least one, then as many as fit in
    /// `maxBatchesPerCommit` and `maxEventsPerCommit`. The event bound keeps commits of large batches as they were
    /// (~64 batches of 1,000 events); the batch bound lets a fleet's small batches share a commit, whose fixed
    /// costs (the fsync, the index pages rewritten in the WAL) were paid per 64 batches of a few events each.
    private func commitSize() -> Int {
        var take = 0
        var events = 0
        for entry in self.pending {
            let next = entry.item.batch.eventCount
            guard take < self.maxBatchesPerCommit, take == 0 || events + next <= self.maxEventsPerCommit else { break }
            take += 1
            events += next
        }
        return take
    }

    /// The batches of the next transaction, taken out of `pending`. When all that is pending fits (the usual case),
    /// all of it, in arrival order. When more is pending than one transaction takes, the agents take turns, each
    /// with its own batches in the order they came: an agent with a full window (or many) cannot keep another
    /// agent's batch out of the next commit.
    private func nextGroup() -> [Pending] {
        let fifo = self.commitSize()
        if fifo == self.pending.count {
            defer { self.pending.removeAll(keepingCapacity: true) }
            return self.pending
        }
        var queues: [Int64: [Int]] = [:]
        var agents: [Int64] = []
        for (index, entry) in self.pending.enumerated() {
            if queues[entry.item.agentID] == nil { agents.append(entry.item.agentID) }
            queues[entry.item.agentID, default: []].append(index)
        }
        var chosen = [Bool](repeating: false, count: self.pending.count)
        var take = 0
        var events = 0
        var next = [Int](repeating: 0, count: agents.count)
        turns: while true {
            var progressed = false
            for (slot, agent) in agents.enumerated() {
                guard let queue = queues[agent], next[slot] < queue.count else { continue }
                let index = queue[next[slot]]
                let count = self.pending[index].item.batch.eventCount
                guard take < self.maxBatchesPerCommit, take == 0 || events + count <= self.maxEventsPerCommit else {
                    break turns
                }
                chosen[index] = true
                next[slot] += 1
                take += 1
                events += count
                progressed = true
            }
            if !progressed { break }
        }
        var group: [Pending] = []
        var rest: [Pending] = []
        group.reserveCapacity(take)
        rest.reserveCapacity(self.pending.count - take)
        for (index, entry) in self.pending.enumerated() {
            if chosen[index] { group.append(entry) } else { rest.append(entry) }
        }
        self.pending = rest
        return group
    }

    private func commitLoop() async {
        while true {
            if self.pending.isEmpty {
                if self.stopping { return }
                await withCheckedContinuation { self.wakeUp = $0 }
                continue
            }
            let group = self.nextGroup()
            let take = group.count
            self.metrics.set("commit_queue_batches", Int64(self.pending.count))
            self.metrics.set("commit_batches_in_transaction", Int64(take))
            do {
                let started = ContinuousClock.now
                let outcomes = try await self.store.ingest(group.map(\.item))
                Failpoint.hit("aggregator.committed-before-ack")
                let finished = ContinuousClock.now
                let elapsed = finished - started
                self.metrics.commitDuration.recordNanoseconds(elapsed.nanoseconds)
                self.metrics.add("commit_us", elapsed.nanoseconds / 1000)
                for (entry, outcome) in zip(group, outcomes) {
                    self.metrics.batchDurableLatency.recordNanoseconds((finished - entry.queued).nanoseconds)
                    switch outcome {
                    case .stored, .duplicate: break
                    case .refused: entry.lane.halt(at: entry.item.batch.sequence)
                    case .heldBack:
                        self.metrics.add("batches_held_back")
                        entry.lane.halt(at: entry.item.batch.sequence)
                    }
                    entry.reply(.success(outcome))
                }
                self.metrics.add("commits")
            } catch {
                // Nothing of the transaction is stored: its batches get `storageFailure`, and their agents keep them
                // spooled and send them again. A full disk fails every commit, and agents retrying from a fleet
                // would write a line each: one line per 10 s, with the count.
                self.metrics.add("commit_failures")
                if let failures = self.failureLog.note() {
                    self.logger.error(
                        "Commit failed; its batches were not acknowledged and their agents will send them again",
                        metadata: ["error": "\(error)", "batches": "\(group.count)", "failures": "\(failures)"]
                    )
                }
                let finished = ContinuousClock.now
                for entry in group {
                    self.metrics.batchDurableLatency.recordNanoseconds((finished - entry.queued).nanoseconds)
                    entry.lane.halt(at: entry.item.batch.sequence)
                    entry.reply(.failure(.storage("\(error)")))
                }
            }
            self.metrics.set("commit_batches_in_transaction", 0)
            self.pendingBytes -= group.reduce(0) { $0 + $1.bytes }
            self.dropHaltedLanes()
            self.wakeSpaceWaiters()
        }
    }

    /// Answers, without storing them, the queued batches of every lane halted by the last transaction: whatever room
    /// the disk has left for a later commit, they would land after a batch of their session that is not stored.
    private func dropHaltedLanes() {
        guard self.pending.contains(where: { $0.lane.halted != nil }) else { return }
        var kept: [Pending] = []
        kept.reserveCapacity(self.pending.count)
        for entry in self.pending {
            guard let halted = entry.lane.halted else {
                kept.append(entry)
                continue
            }
            self.pendingBytes -= entry.bytes
            self.metrics.add("batches_held_back")
            entry.reply(.failure(.heldBack(sequence: entry.item.batch.sequence, after: halted)))
        }
        self.pending = kept
        self.metrics.set("commit_queue_batches", Int64(self.pending.count))
    }
}

extension Duration {
    /// Whole nanoseconds, saturating (a histogram sample, not a clock).
    var nanoseconds: Int64 {
        let (seconds, overflow) = self.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow
            ? .max : seconds.addingReportingOverflow(self.components.attoseconds / 1_000_000_000).partialValue
    }
}

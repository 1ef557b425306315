import Crypto
import FlightlogSystem
import FlightlogWire
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// One connection to the aggregator, carried out: frames, the spool, the clock and the agent's stop go into a
/// ``ShipperStateMachine``, and the actions it returns are performed here. Every protocol decision is the
/// machine's; this type only does I/O.
///
/// Four tasks share the machine, behind a lock: the one calling ``run(inbound:)`` reads frames; once the session
/// is open a sender moves batches from the spool, and a clock sends heartbeats; a watcher reports the agent's stop
/// and the end of its drain period. Whoever performs ``ShipperStateMachine/Action/close(_:)`` closes the channel,
/// which ends the reader, which cancels the others.
final class ShipperConnection: Sendable {
    typealias Action = ShipperStateMachine.Action

    private struct Shared {
        var machine: ShipperStateMachine
        /// The I/O failure that ended the connection before the machine did.
        var failure: (any Error)?
    }

    private let shared: Mutex<Shared>
    private let channel: any Channel
    private let outbound: NIOAsyncChannelOutboundWriter<Frame>
    private let journal: Journal
    private let signingKey: Curve25519.Signing.PrivateKey
    private let counters: AgentCounters
    private let logger: Logger

    init(
        machine: ShipperStateMachine,
        channel: any Channel,
        outbound: NIOAsyncChannelOutboundWriter<Frame>,
        journal: Journal,
        signingKey: Curve25519.Signing.PrivateKey,
        counters: AgentCounters,
        logger: Logger
    ) {
        self.shared = Mutex(Shared(machine: machine))
        self.channel = channel
        self.outbound = outbound
        self.journal = journal
        self.signingKey = signingKey
        self.counters = counters
        self.logger = logger
    }

    /// Runs the connection to its end, and returns how the machine ended it, or throws the I/O failure that ended
    /// it first.
    func run(inbound: NIOAsyncChannelInboundStream<Frame>) async throws -> ShipperStateMachine.Outcome {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.watchShutdown() }
            var frames = inbound.makeAsyncIterator()
            var pending = self.handle { $0.start(agentTimeNanos: WallClock.nowNanos()) }
            while true {
                while !pending.isEmpty {
                    let action = pending.removeFirst()
                    pending.insert(contentsOf: await self.perform(action), at: 0)
                    if case .open = action, !self.isOver {
                        group.addTask { await self.ship() }
                        group.addTask { await self.beat() }
                    }
                }
                if self.isOver { break }
                pending = await self.read(&frames)
            }
            group.cancelAll()
        }
        return try self.shared.withLock { shared throws -> ShipperStateMachine.Outcome in
            if let failure = shared.failure { throw failure }
            return shared.machine.outcome ?? .ended(reason: "the aggregator closed the connection", retryable: true)
        }
    }

    // MARK: - Tasks

    /// The next event from the aggregator: a frame, the end of the stream, a frame that does not decode, or silence.
    private func read(_ frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator) async -> [Action] {
        do {
            guard let frame = try await frames.next() else { return self.handle { $0.connectionClosed() } }
            return self.handle { $0.received(frame, now: .now) }
        } catch let error as WireError {
            return self.handle { $0.receivedUndecodable(error) }
        } catch is IdleCloseHandler.Silence {
            return self.handle { $0.silenceTimedOut() }
        } catch {
            self.fail(error)
            return []
        }
    }

    /// Moves batches from the spool as the machine asks, until the connection ends.
    private func ship() async {
        while let request = self.shared.withLock({ $0.failure == nil ? $0.machine.spoolRequest : nil }) {
            // A cancelled wait returns at once: without this the loop would spin until the reader notices.
            guard !Task.isCancelled else { return self.fail(CancellationError()) }
            let snapshot = await self.journal.spoolSnapshot(after: request.after, limit: request.limit)
            await self.perform(all: self.handle { $0.spoolRead(snapshot) })
        }
    }

    /// Sends heartbeats when the machine says they are due.
    private func beat() async {
        while let due = self.shared.withLock({ $0.failure == nil ? $0.machine.nextHeartbeat : nil }) {
            guard (try? await Task.sleep(until: due, clock: .continuous)) != nil else {
                return self.fail(CancellationError())
            }
            await self.perform(all: self.handle { $0.tick(now: .now) })
        }
    }

    /// Tells the machine when the agent stops, then when the drain period it set is over.
    private func watchShutdown() async {
        do {
            try await gracefulShutdown()
            let spool = await self.journal.spoolSnapshot(after: .max, limit: 0)
            await self.perform(all: self.handle { $0.shutdownRequested(spool: spool, now: .now) })
            guard let deadline = self.shared.withLock({ $0.machine.drainDeadline }) else { return }
            try await Task.sleep(until: deadline, clock: .continuous)
            await self.perform(all: self.handle { $0.tick(now: .now) })
        } catch {
            self.fail(error)
        }
    }

    // MARK: - Actions

    /// Performs `actions` in order, each followed at once by what the machine answers to it, so that one batch
    /// at a time is held in memory.
    private func perform(all actions: [Action]) async {
        var pending = actions
        while !pending.isEmpty {
            let action = pending.removeFirst()
            pending.insert(contentsOf: await self.perform(action), at: 0)
        }
    }

    /// Performs one action; returns what the machine answers to its result, if it asked for one.
    private func perform(_ action: Action) async -> [Action] {
        do {
            switch action {
            case .send(let frame):
                try await self.outbound.write(frame)
            case .sendProof(let message):
                let signature = Array(try self.signingKey.signature(for: message))
                try await self.outbound.write(.proof(Proof(signature: signature)))
            case .loadBatch(let sequence):
                let batch = SpooledBatch(sequence: sequence, envelope: try await self.journal.envelope(sequence))
                return self.handle { $0.batchLoaded(batch) }
            case .sendBatch(let batch):
                try await self.outbound.write(.batch(ByteBuffer(bytes: batch.envelope)))
                self.counters.add("batches_sent")
            case .sendHeartbeat:
                var values = self.counters.snapshot
                let spool = await self.journal.spoolStatus
                values["spool_batches"] = UInt64(spool.batches)
                values["spool_bytes"] = UInt64(spool.bytes)
                values["spool_max_bytes"] = UInt64(self.journal.maxSpoolBytes)
                let heartbeat = ShipperStateMachine.heartbeat(timeNanos: WallClock.nowNanos(), counters: values)
                try await self.outbound.write(.heartbeat(heartbeat))
            case .waitForSpoolChange(let change):
                await self.journal.waitForChange(after: change)
            case .findResumeBatch(let sequence):
                let hash = try? SignedBatch(bytes: await self.journal.envelope(sequence)).hash
                return self.handle { $0.resumeBatchFound(hash: hash, now: .now) }
            case .raiseResumeAlarm(let sequence):
                self.counters.add("resume_hash_mismatch")
                self.logger.error(
                    "The aggregator holds a different batch for our sequence",
                    metadata: ["batch.seq": "\(sequence)"]
                )
            case .deleteSpooled(let sequence):
                // Batches the aggregator stored without the agent getting their ACK (a connection or the aggregator
                // lost between commit and ACK): its WELCOME says so, and they are not sent again.
                let removed = await self.journal.acknowledge(through: sequence)
                self.counters.add("batches_acked_by_welcome", UInt64(removed))
                if removed > 0 {
                    self.logger.info(
                        "The aggregator already holds spooled batches whose ACK never came; not sending them again",
                        metadata: ["batches": "\(removed)", "batch.seq": "\(sequence)"]
                    )
                }
            case .resendingUnstored(let from, let head):
                self.counters.add("resends_past_welcome")
                self.logger.warning(
                    "The aggregator names a head past a batch it said it did not store; sending that batch again",
                    metadata: [
                        "batch.seq": "\(from)", "welcome.head": "\(head)",
                        "hint": "an aggregator older than PROTOCOL.md §7.4 rule 4 after a failed commit",
                    ]
                )
            case .acknowledged(let sequence, let status):
                await self.journal.acknowledge(through: sequence)
                self.counters.add(status == .stored ? "batches_acked" : "batches_acked_duplicate")
                self.counters.set("last_ack_ns", UInt64(max(0, WallClock.nowNanos())))
                self.counters.set("last_acked_sequence", sequence)
            case .countErrorReceived:
                self.counters.add("errors_received")
            case .open(let silenceTimeout):
                try await self.watchForSilence(silenceTimeout)
                self.counters.note("connection", "connected")
                self.counters.set("connected_since_ns", UInt64(max(0, WallClock.nowNanos())))
            case .close:
                self.channel.close(promise: nil)
            }
        } catch {
            self.fail(error)
        }
        return []
    }

    /// Replaces the handshake's read timeout with `timeout`.
    private func watchForSilence(_ timeout: Duration) async throws {
        let pipeline = self.channel.pipeline
        let amount = TimeAmount(timeout)
        try await pipeline.removeHandler(name: "idle").get()
        try await self.channel.eventLoop.submit {
            try pipeline.syncOperations.addHandler(
                IdleStateHandler(readTimeout: amount),
                name: "idle",
                position: .before(try pipeline.syncOperations.handler(type: IdleCloseHandler.self))
            )
        }.get()
    }

    // MARK: - Shared state

    /// Feeds an event to the machine; nothing once an I/O failure ended the connection.
    private func handle(_ event: (inout ShipperStateMachine) -> [Action]) -> [Action] {
        self.shared.withLock { shared in shared.failure == nil ? event(&shared.machine) : [] }
    }

    private var isOver: Bool {
        self.shared.withLock { $0.failure != nil || $0.machine.outcome != nil }
    }

    /// An I/O failure ends the connection, unless the machine ended it first: then the failure is only a
    /// consequence, like a write after the close.
    private func fail(_ error: any Error) {
        self.shared.withLock { shared in
            if shared.failure == nil, shared.machine.outcome == nil { shared.failure = error }
        }
        self.channel.close(promise: nil)
    }
}

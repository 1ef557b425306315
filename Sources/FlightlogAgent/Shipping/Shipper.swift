public import Crypto
import FlightlogWire
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle

/// Sends spooled batches to the aggregator and deletes them once acknowledged (PROTOCOL.md §7).
///
/// One connection at a time: handshake, resume from the aggregator's head, then a sender that keeps up to
/// `window` batches in flight and a receiver that matches acks to them in order. Any failure closes the
/// connection and reconnects with exponential backoff and jitter; nothing is lost because batches leave the spool
/// only when acknowledged, and a resend of the same bytes is acknowledged as a duplicate.
public final class Shipper: Service {
    private let configuration: AgentConfiguration
    private let journal: Journal
    private let signingKey: Curve25519.Signing.PrivateKey
    private let counters: AgentCounters
    private let logger: Logger
    /// Seconds allowed, after a graceful shutdown began, to ship what is spooled (the stop event included).
    private let drainSeconds: Int64
    /// TLS to the aggregator; nil with `insecure_plaintext`.
    private let tls: ShipperTLS?

    public init(
        configuration: AgentConfiguration,
        journal: Journal,
        signingKey: Curve25519.Signing.PrivateKey,
        counters: AgentCounters,
        logger: Logger,
        tls: ShipperTLS?,
        drainSeconds: Int64 = 5
    ) {
        self.configuration = configuration
        self.journal = journal
        self.signingKey = signingKey
        self.counters = counters
        self.logger = logger
        self.tls = tls
        self.drainSeconds = drainSeconds
    }

    private struct SessionEnd: Error {
        var reason: String
        var retryable: Bool
    }

    public func run() async throws {
        var backoff = 1.0
        var attempt = 0
        while !Task.isCancelled {
            let shuttingDown = Task.isShuttingDownGracefully
            if shuttingDown, await self.journal.spoolStatus.batches == 0 { return }
            attempt += 1
            if attempt > 1 { self.counters.add("reconnects") }
            self.counters.note("connection", "connecting")
            do {
                let clean = try await self.session(shuttingDown: shuttingDown)
                backoff = 1.0
                if clean { return }
            } catch let end as SessionEnd {
                self.counters.note("connection", "disconnected: \(end.reason)")
                self.counters.note("last_error", end.reason)
                if Task.isShuttingDownGracefully {
                    self.logger.info("Connection to the aggregator ended", metadata: ["reason": "\(end.reason)"])
                } else {
                    self.logger.warning("Connection to the aggregator ended", metadata: ["reason": "\(end.reason)"])
                }
                if !end.retryable {
                    // An operator must act (enrol the key, look at a broken chain). Keep spooling, retry slowly.
                    backoff = 60
                }
            } catch {
                self.counters.note("connection", "disconnected: \(error)")
                self.counters.note("last_error", "\(error)")
                self.logger.info("Cannot reach the aggregator", metadata: ["error": "\(error)"])
            }
            if Task.isShuttingDownGracefully { return }
            let jitter = Double.random(in: 0.5...1.0)
            let delay = Duration.milliseconds(Int64(backoff * jitter * 1000))
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            backoff = min(backoff * 2, 60)
        }
    }

    /// One connection. Returns true when it ended because the agent is stopping and everything was shipped.
    private func session(shuttingDown: Bool) async throws -> Bool {
        do {
            return try await self.connection(shuttingDown: shuttingDown)
        } catch let error as NIOSSLError {
            self.counters.add("tls_failures")
            throw SessionEnd(reason: self.tls?.describe(error) ?? "\(error)", retryable: true)
        } catch let error as BoringSSLError {
            self.counters.add("tls_failures")
            throw SessionEnd(reason: self.tls?.describe(error) ?? "\(error)", retryable: true)
        }
    }

    private func connection(shuttingDown: Bool) async throws -> Bool {
        let host = self.configuration.aggregatorHost
        let tls = self.tls
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: self.configuration.aggregatorPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(try tls.handler(host: host)) }
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(IdleStateHandler(readTimeout: .seconds(30)), name: "idle")
                    try sync.addHandler(IdleCloseHandler(), name: "idle-close")
                    return try NIOAsyncChannel<Frame, Frame>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            do {
                return try await self.converse(channel, inbound, outbound)
            } catch let error as WireError {
                // A frame that does not decode (§3 rule 7): say so, then close. badMagic and unsupportedVersion
                // are the aggregator's answers to a HELLO; from the agent every decoding failure is malformedFrame
                // (frameTooLarge for a length past the limit).
                let code = error.frameErrorCode == .frameTooLarge ? ErrorCode.frameTooLarge : .malformedFrame
                try? await outbound.write(.error(ErrorMessage(code: code, message: "\(error)")))
                throw SessionEnd(reason: "the aggregator sent a frame that does not decode: \(error)", retryable: true)
            } catch AgentError.protocolViolation(let what) {
                try? await outbound.write(.error(ErrorMessage(code: .unexpectedFrame, message: what)))
                throw AgentError.protocolViolation(what)
            }
        }
    }

    /// The handshake and the stream of one connection.
    private func converse(
        _ channel: NIOAsyncChannel<Frame, Frame>,
        _ inbound: NIOAsyncChannelInboundStream<Frame>,
        _ outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws -> Bool {
        var frames = inbound.makeAsyncIterator()
        let welcome = try await self.handshake(frames: &frames, outbound: outbound)
        // From now on the aggregator sends something at least every H seconds; 3 × H of silence is a dead peer.
        let timeout = TimeAmount.seconds(3 * Int64(welcome.heartbeatIntervalSeconds))
        try await channel.channel.pipeline.removeHandler(name: "idle").get()
        let pipeline = channel.channel.pipeline
        try await channel.channel.eventLoop.submit {
            try pipeline.syncOperations.addHandler(
                IdleStateHandler(readTimeout: timeout),
                name: "idle",
                position: .before(try pipeline.syncOperations.handler(type: IdleCloseHandler.self))
            )
        }.get()
        self.counters.note("connection", "connected")
        self.counters.set("connected_since_ns", UInt64(max(0, WallClock.nowNanos())))
        return try await self.stream(
            welcome: welcome,
            channel: channel.channel,
            frames: &frames,
            outbound: outbound
        )
    }

    private func next(
        _ frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator
    ) async throws -> Frame {
        guard let frame = try await frames.next() else {
            throw SessionEnd(reason: "the aggregator closed the connection", retryable: true)
        }
        if case .error(let error) = frame {
            let code = error.code
            self.counters.add("errors_received")
            throw SessionEnd(
                reason:
                    "ERROR \(code.map { "\($0)" } ?? "\(error.rawCode)") sequence \(error.sequence): \(error.message)",
                retryable: code?.isRetryable ?? true
            )
        }
        return frame
    }

    private func handshake(
        frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws -> Welcome {
        let position = await self.journal.nextBatch
        let publicKey = Bytes32(self.signingKey.publicKey.rawRepresentation) ?? .zero
        try await outbound.write(
            .hello(
                Hello(
                    publicKey: publicKey,
                    epoch: position.epoch,
                    agentTimeNanos: WallClock.nowNanos(),
                    agentName: self.configuration.hostname
                )
            )
        )
        guard case .challenge(let challenge) = try await self.next(&frames) else {
            throw AgentError.protocolViolation("expected CHALLENGE")
        }
        // Shipping is the same in versions 1 and 2; an aggregator of either is served.
        guard (ProtocolVersion.first...ProtocolVersion.current).contains(challenge.version) else {
            try? await outbound.write(.goodbye(Goodbye(message: "version \(challenge.version) not supported")))
            throw SessionEnd(reason: "aggregator selected protocol version \(challenge.version)", retryable: false)
        }
        let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: publicKey, epoch: position.epoch)
        try await outbound.write(.proof(Proof(signature: Array(try self.signingKey.signature(for: message)))))
        guard case .welcome(let welcome) = try await self.next(&frames) else {
            throw AgentError.protocolViolation("expected WELCOME")
        }
        guard welcome.epoch == position.epoch else {
            throw AgentError.protocolViolation("WELCOME names epoch \(welcome.epoch), not \(position.epoch)")
        }
        if welcome.lastSequence >= position.sequence {
            // The aggregator holds batches this agent never built: another machine uses this key, or our state was
            // restored from an old backup. Stop shipping this chain; an operator must look.
            throw SessionEnd(
                reason:
                    "aggregator holds sequence \(welcome.lastSequence) but this agent only built up to \(position.sequence - 1)",
                retryable: false
            )
        }
        if welcome.lastSequence > 0, let mine = try? await self.journal.envelope(welcome.lastSequence),
            let batch = try? SignedBatch(bytes: mine), batch.hash != welcome.lastBatchHash
        {
            self.counters.add("resume_hash_mismatch")
            self.logger.error(
                "The aggregator holds a different batch for our sequence",
                metadata: ["batch.seq": "\(welcome.lastSequence)"]
            )
        }
        await self.journal.acknowledge(through: welcome.lastSequence)
        return welcome
    }

    /// Ships until the connection fails, or, when stopping, until the spool is empty. Returns true on the latter.
    private func stream(
        welcome: Welcome,
        channel: any Channel,
        frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws -> Bool {
        let flight = Flight(window: Int(welcome.window), lastSent: welcome.lastSequence)
        let journal = self.journal
        let counters = self.counters
        let heartbeat = Duration.seconds(Int64(welcome.heartbeatIntervalSeconds))
        let drain = Duration.seconds(self.drainSeconds)

        return try await withThrowingTaskGroup(of: Bool.self) { group in
            // Every helper task closes the channel when it ends, so that the receiver below wakes up.
            // Sender: keeps the window full from the spool.
            group.addTask {
                defer { channel.close(promise: nil) }
                while !Task.isCancelled {
                    if Task.isShuttingDownGracefully, await flight.isIdle, await journal.spoolStatus.batches == 0 {
                        try await outbound.write(.goodbye(Goodbye(message: "agent stopping")))
                        return true
                    }
                    let room = await flight.room
                    let sendable =
                        room > 0 ? await journal.spooledSequences(after: await flight.lastSent, limit: room) : []
                    if sendable.isEmpty {
                        await flight.waitOrChange(journal: journal, timeout: .milliseconds(200))
                        continue
                    }
                    for sequence in sendable {
                        let bytes = try await journal.envelope(sequence)
                        await flight.sent(sequence)
                        try await outbound.write(.batch(ByteBuffer(bytes: bytes)))
                        counters.add("batches_sent")
                    }
                }
                return false
            }
            // Heartbeats with counters.
            group.addTask {
                defer { channel.close(promise: nil) }
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    let snapshot = counters.snapshot
                    let spool = await journal.spoolStatus
                    var values = snapshot
                    values["spool_batches"] = UInt64(spool.batches)
                    values["spool_bytes"] = UInt64(spool.bytes)
                    let list = values.sorted { $0.key < $1.key }.prefix(WireLimits.maxHeartbeatCounters).map {
                        Heartbeat.Counter(name: $0.key, value: $0.value)
                    }
                    try await outbound.write(.heartbeat(Heartbeat(timeNanos: WallClock.nowNanos(), counters: list)))
                }
                return false
            }
            // When stopping, the drain has a deadline.
            group.addTask {
                defer { channel.close(promise: nil) }
                try await gracefulShutdown()
                try await Task.sleep(for: drain)
                throw SessionEnd(
                    reason: "stopping before the spool was shipped; it ships on next start",
                    retryable: true
                )
            }
            // Receiver: acks in order; any other frame is a sign of life.
            do {
                while true {
                    let frame = try await self.next(&frames)
                    switch frame {
                    case .ack(let ack):
                        guard let expected = await flight.oldestInFlight, ack.sequence == expected,
                            ack.epoch == welcome.epoch
                        else {
                            throw AgentError.protocolViolation("unexpected ACK for sequence \(ack.sequence)")
                        }
                        await flight.acked(ack.sequence)
                        await journal.acknowledge(through: ack.sequence)
                        counters.add(ack.status == .stored ? "batches_acked" : "batches_acked_duplicate")
                        counters.set("last_ack_ns", UInt64(max(0, WallClock.nowNanos())))
                        counters.set("last_acked_sequence", ack.sequence)
                    case .heartbeat:
                        continue
                    case .goodbye(let goodbye):
                        throw SessionEnd(reason: "aggregator said goodbye: \(goodbye.message)", retryable: true)
                    default:
                        throw AgentError.protocolViolation("unexpected \(frame.type)")
                    }
                }
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
            return false
        }
    }
}

/// The batches in flight on one connection.
actor Flight {
    let window: Int
    private(set) var lastSent: UInt64
    private var inFlight: [UInt64] = []
    private var waiter: CheckedContinuation<Void, Never>?

    init(window: Int, lastSent: UInt64) {
        self.window = window
        self.lastSent = lastSent
    }

    var room: Int { self.window - self.inFlight.count }
    var isIdle: Bool { self.inFlight.isEmpty }
    var oldestInFlight: UInt64? { self.inFlight.first }

    func sent(_ sequence: UInt64) {
        self.inFlight.append(sequence)
        self.lastSent = sequence
    }

    func acked(_ sequence: UInt64) {
        if self.inFlight.first == sequence { self.inFlight.removeFirst() }
        self.waiter?.resume()
        self.waiter = nil
    }

    /// Waits for an ack, a journal change or the timeout, whichever comes first.
    func waitOrChange(journal: Journal, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await journal.waitForChange() }
            await group.next()
            group.cancelAll()
            await journal.wakeAll()
        }
    }
}

/// Closes the connection when the `IdleStateHandler` before it reports that nothing was read in time.
final class IdleCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

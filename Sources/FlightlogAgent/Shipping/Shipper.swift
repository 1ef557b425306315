public import Crypto
import FlightlogWire
public import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle

/// Sends spooled batches to the aggregator and deletes them once acknowledged (PROTOCOL.md §7).
///
/// One connection at a time, each run by a ``ShipperConnection`` that carries out what a ``ShipperStateMachine``
/// decides: handshake, resume from the aggregator's head, up to `window` batches in flight, acks matched to them in
/// order, heartbeats, and a drain with a deadline when the agent stops. This type connects, and reconnects with
/// exponential backoff and jitter; nothing is lost because batches leave the spool only when acknowledged, and a
/// resend of the same bytes is acknowledged as a duplicate.
///
/// With several aggregators on one store (``AgentConfiguration/aggregators``), a connection that fails or ends
/// moves to the next one at once; the backoff applies only when a whole round failed. The agent stays with the
/// aggregator that works, and each WELCOME's head says where to resume: the store is shared, so a batch one node
/// stored and did not get to acknowledge is acknowledged by the next as a duplicate.
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

    public func run() async throws {
        var backoff = ReconnectBackoff()
        var attempt = 0
        let aggregators = self.configuration.aggregators
        var current = 0
        // Aggregators tried since the last ACK or since a whole round failed.
        var failedInRound = 0
        while !Task.isCancelled {
            if Task.isShuttingDownGracefully, await self.journal.spoolStatus.batches == 0 { return }
            attempt += 1
            if attempt > 1 { self.counters.add("reconnects") }
            self.counters.note("connection", "connecting to \(aggregators[current])")
            let ackedBefore = self.counters["batches_acked"] + self.counters["batches_acked_duplicate"]
            let ceiling: Double
            do {
                // The batch the last connection's aggregator said it did not store, for this WELCOME (kept by the
                // journal, across restarts too).
                let outcome = try await self.session(
                    aggregators[current],
                    resendFrom: await self.journal.unstored
                )
                switch outcome {
                case .drained:
                    self.counters.note("connection", "closed: everything was shipped and the agent stopped")
                    return
                case .ended(let reason, let retryable, let refusal, let greeting, let notStored):
                    await self.keep(notStored)
                    self.counters.note("connection", "disconnected: \(reason)")
                    self.counters.note("last_error", reason)
                    var metadata: Logger.Metadata = ["reason": "\(reason)", "aggregator": "\(aggregators[current])"]
                    if let hint = refusal.flatMap({ ShipperHints.afterRefusal($0, self.configuration) }) {
                        metadata["hint"] = "\(hint)"
                    } else if let greeting {
                        metadata["hint"] = "\(ShipperHints.notAnAggregator(greeting: greeting, self.configuration))"
                    }
                    if Task.isShuttingDownGracefully {
                        self.logger.info("Connection to the aggregator ended", metadata: metadata)
                    } else {
                        self.logger.warning("Connection to the aggregator ended", metadata: metadata)
                    }
                    // After a refusal an operator must act on (enrol the key, look at a broken chain): keep
                    // spooling, retry slowly.
                    let acked = self.counters["batches_acked"] + self.counters["batches_acked_duplicate"]
                    ceiling = backoff.sessionEnded(acknowledged: acked > ackedBefore, retryable: retryable)
                    if acked > ackedBefore { failedInRound = 0 }
                }
            } catch {
                self.counters.note("connection", "disconnected: \(error)")
                self.counters.note("last_error", "\(error)")
                var metadata: Logger.Metadata = ["error": "\(error)", "aggregator": "\(aggregators[current])"]
                if let hint = ShipperHints.unreachable(error, self.configuration) { metadata["hint"] = "\(hint)" }
                self.logger.info("Cannot reach the aggregator", metadata: metadata)
                ceiling = backoff.attemptFailed()
            }
            if Task.isShuttingDownGracefully { return }
            failedInRound += 1
            if aggregators.count > 1 {
                current = (current + 1) % aggregators.count
                self.counters.add("failovers")
                self.logger.notice("Trying the next aggregator", metadata: ["aggregator": "\(aggregators[current])"])
                if failedInRound < aggregators.count {
                    // Another node has not been tried in this round: at once, with a little jitter so that a
                    // fleet that lost its node does not arrive at the next in step.
                    try? await cancelWhenGracefulShutdown {
                        try await Task.sleep(for: ReconnectBackoff.jittered(ReconnectBackoff.failover))
                    }
                    continue
                }
                failedInRound = 0
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: ReconnectBackoff.jittered(ceiling)) }
        }
    }

    /// Sets what ``Journal/unstored`` is to be; a failure to write it down is logged, not fatal (the batch stays in
    /// the spool, and the journal still holds it in memory).
    private func keep(_ unstored: UInt64?) async {
        do {
            try await self.journal.noteUnstored(unstored)
        } catch {
            self.logger.warning(
                "Cannot record which batch the aggregator did not store; it is sent again unless the agent restarts",
                metadata: ["error": "\(error)"]
            )
        }
    }

    /// One connection, to its end. A failed TLS handshake ends it like any other session, with its cause named.
    private func session(
        _ aggregator: AggregatorAddress,
        resendFrom: UInt64?
    ) async throws -> ShipperStateMachine.Outcome {
        do {
            return try await self.connection(aggregator, resendFrom: resendFrom)
        } catch let error as NIOSSLError {
            self.counters.add("tls_failures")
            return .ended(reason: self.tls?.describe(error) ?? "\(error)", retryable: true)
        } catch let error as BoringSSLError {
            self.counters.add("tls_failures")
            return .ended(reason: self.tls?.describe(error) ?? "\(error)", retryable: true)
        }
    }

    private func connection(
        _ aggregator: AggregatorAddress,
        resendFrom: UInt64?
    ) async throws -> ShipperStateMachine.Outcome {
        let host = aggregator.host
        let tls = self.tls
        let handshakeSilence = TimeAmount(ShipperStateMachine.handshakeSilenceTimeout)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: aggregator.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(try tls.handler(host: host)) }
                    try sync.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(IdleStateHandler(readTimeout: handshakeSilence), name: "idle")
                    try sync.addHandler(IdleCloseHandler(), name: "idle-close")
                    return try NIOAsyncChannel<Frame, Frame>(wrappingChannelSynchronously: channel)
                }
            }
        let position = await self.journal.nextBatch
        let machine = ShipperStateMachine(
            configuration: ShipperStateMachine.Configuration(
                publicKey: Bytes32(self.signingKey.publicKey.rawRepresentation) ?? .zero,
                agentName: self.configuration.hostname,
                epoch: position.epoch,
                nextSequence: position.sequence,
                drainPeriod: .seconds(self.drainSeconds),
                resendFrom: resendFrom
            )
        )
        return try await channel.executeThenClose { inbound, outbound in
            let connection = ShipperConnection(
                machine: machine,
                channel: channel.channel,
                outbound: outbound,
                journal: self.journal,
                signingKey: self.signingKey,
                counters: self.counters,
                logger: self.logger
            )
            return try await connection.run(inbound: inbound)
        }
    }
}

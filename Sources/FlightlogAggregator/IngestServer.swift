public import FlightlogStore
import FlightlogWire
import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// The TCP listener of `flightlog serve`: accepts agents and runs one ``Session`` per connection as a child task.
public final class IngestServer: Service {
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<Frame, Frame>, Never>
    private let store: any EvidenceStore
    private let committer: GroupCommitter
    private let configuration: AggregatorConfiguration
    private let logger: Logger
    /// The counters, shared with the status reporter.
    public let metrics: AggregatorMetrics
    private let active = NIOLockedValueBox(0)
    private let enrolments = EnrolmentLimiter()
    private let sessions = SessionRegistry()

    /// The port actually bound (useful when the configuration asked for port 0).
    public let port: Int

    /// Binds the listening socket; serving starts with ``run()``.
    public init(
        configuration: AggregatorConfiguration,
        store: any EvidenceStore,
        metrics: AggregatorMetrics,
        logger: Logger,
        group: MultiThreadedEventLoopGroup = .singleton
    ) async throws {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.metrics = metrics
        self.committer = GroupCommitter(store: store, configuration: configuration, metrics: metrics, logger: logger)
        let heartbeat = TimeAmount.seconds(Int64(configuration.heartbeatIntervalSeconds))
        let handshakeTimeout = TimeAmount.seconds(configuration.handshakeTimeoutSeconds)
        do {
            self.serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            AcceptErrorHandler(logger: logger, metrics: metrics)
                        )
                    }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        // TLS or plaintext, told apart by the first byte; the mismatch is answered, not guessed at.
                        try sync.addHandler(
                            TransportGate(credentials: configuration.tls, metrics: metrics, logger: logger)
                        )
                        // Until WELCOME, only frames of the handshake's size: a peer that has not proved its key
                        // cannot make the server buffer a 4 MiB frame.
                        let handshakeLimit = HandshakeLimit()
                        try sync.addHandler(ByteToMessageHandler(FrameDecoder(handshake: handshakeLimit)))
                        try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                        try sync.addHandler(IdleStateHandler(readTimeout: heartbeat * 3, writeTimeout: heartbeat))
                        try sync.addHandler(
                            SessionGuardHandler(
                                handshakeTimeout: handshakeTimeout,
                                idleTimeout: heartbeat * 3,
                                handshakeLimit: handshakeLimit,
                                metrics: metrics
                            )
                        )
                        // At most two frames wait in each connection's buffer, so a connection whose session waits
                        // for the database holds little more than that; the socket then fills and TCP pushes back.
                        // (Eight frames of a few hundred KB, from 2,000 agents with backlogs, would be gigabytes.)
                        return try NIOAsyncChannel<Frame, Frame>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(backPressureStrategy: .init(lowWatermark: 1, highWatermark: 2))
                        )
                    }
                }
        } catch let error as IOError {
            // NIO's own description of a failed bind carries a stray parenthesis; say it plainly.
            let reason = AcceptErrorHandler.describe(error)
            throw AggregatorError.cannotListen("\(configuration.host):\(configuration.port): \(reason)")
        } catch {
            throw AggregatorError.cannotListen("\(configuration.host):\(configuration.port): \(error)")
        }
        self.port = self.serverChannel.channel.localAddress?.port ?? configuration.port
        metrics.set("connections_limit", Int64(configuration.maxConnections))
    }

    /// Accepts connections until graceful shutdown; then stops accepting, lets sessions finish their in-flight
    /// commits and acks, and drains the committer.
    public func run() async throws {
        self.logger.info(
            "Listening",
            metadata: ["listen.host": "\(self.configuration.host)", "listen.port": "\(self.port)"]
        )
        await withDiscardingTaskGroup { indexing in
            // The full-text index trails the commits on its own connection; stopping it at any point is safe (its
            // watermark commits with its rows), so it is simply cancelled once the last commit is done.
            indexing.addTask { await self.maintainIndexes() }
            await withDiscardingTaskGroup { group in
                group.addTask { await self.committer.run() }
                await withGracefulShutdownHandler {
                    await self.acceptLoop()
                } onGracefulShutdown: {
                    self.serverChannel.channel.close(promise: nil)
                }
                await self.committer.shutdownWhenIdle()
            }
            indexing.cancelAll()
        }
        self.logger.info("Stopped")
    }

    private func maintainIndexes() async {
        do {
            try await self.store.maintainIndexes { [metrics = self.metrics, logger = self.logger] progress in
                metrics.set("fts_indexed_through", progress.indexedThrough)
                metrics.set("fts_lag_events", progress.lag)
                metrics.set("fts_attrs_lag_events", progress.lag)
                let wasFailing = metrics["fts_indexer_failing"] != 0
                metrics.set("fts_indexer_failing", progress.failingFiles == 0 ? 0 : 1)
                if let failure = progress.failure {
                    // One line per failed attempt (the reason names the file): the retries back off to one every
                    // 30 s.
                    metrics.add("fts_errors")
                    logger.error(
                        "Full-text indexing failed; events are still stored and acknowledged, and indexing retries",
                        metadata: [
                            "error": "\(failure)",
                            "retry_in_s": "\(progress.retryDelay.map { $0.components.seconds } ?? 0)",
                            "fts_lag_events": "\(progress.lag)",
                        ]
                    )
                } else if wasFailing && progress.failingFiles == 0 {
                    logger.notice("Full-text indexing resumed", metadata: ["fts_lag_events": "\(progress.lag)"])
                }
            }
        } catch {
            if !Task.isCancelled {
                self.logger.error("Full-text indexing stopped", metadata: ["error": "\(error)"])
            }
        }
    }

    private func acceptLoop() async {
        await withDiscardingTaskGroup { group in
            var refusals = LogThrottle()
            try? await self.serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    let peer = connection.channel.remoteAddress.map { "\($0)" } ?? "unknown"
                    self.metrics.add("connections_accepted")
                    let admitted = self.active.withLockedValue { count -> Bool in
                        guard count < self.configuration.maxConnections else { return false }
                        count += 1
                        return true
                    }
                    guard admitted else {
                        self.metrics.add("connections_refused_busy")
                        if let refused = refusals.note() {
                            self.logger.warning(
                                "Refusing connections: at the connection limit",
                                metadata: [
                                    "peer.address": "\(peer)", "refused": "\(refused)",
                                    "connections.limit": "\(self.configuration.maxConnections)",
                                ]
                            )
                        }
                        group.addTask {
                            try? await connection.executeThenClose { _, outbound in
                                try await outbound.write(
                                    .error(ErrorMessage(code: .serverBusy, message: "too many connections"))
                                )
                            }
                        }
                        continue
                    }
                    self.metrics.add("connections_active")
                    var logger = self.logger
                    logger[metadataKey: "peer.address"] = "\(peer)"
                    let session = Session(
                        channel: connection,
                        store: self.store,
                        committer: self.committer,
                        metrics: self.metrics,
                        configuration: self.configuration,
                        logger: logger,
                        peer: peer,
                        peerHost: connection.channel.remoteAddress?.ipAddress ?? peer,
                        enrolments: self.enrolments,
                        sessions: self.sessions
                    )
                    group.addTask {
                        await withGracefulShutdownHandler {
                            await session.run()
                        } onGracefulShutdown: {
                            // Stop reading: the session acks what it already has, says goodbye and closes.
                            connection.channel.close(mode: .input, promise: nil)
                        }
                        self.active.withLockedValue { $0 -= 1 }
                    }
                }
            }
        }
    }
}

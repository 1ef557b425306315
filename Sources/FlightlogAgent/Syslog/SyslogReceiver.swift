import FlightlogSystem
import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// The agent's syslog inputs: a Unix datagram socket read by a dedicated thread with `recvmsg(2)` (NIO does not
/// pass `SCM_CREDENTIALS`), and UDP and TCP listeners on NIO. Every message goes into the ``SyslogQueue`` the
/// collector drains; nothing is acknowledged to a sender beyond what its transport does.
///
/// Binding happens in ``bind(configuration:queue:counters:logger:group:)``, before the agent starts, so that a bad
/// path or an address in use stops it with a clear error; ``run()`` receives until graceful shutdown, then closes
/// every input and removes the Unix socket file.
public final class SyslogReceiver: Service {
    private let configuration: SyslogConfiguration
    private let queue: SyslogQueue
    private let counters: AgentCounters
    private let logger: Logger
    private let unixSocket: UnixDatagramSocket?
    private let udpChannel: (any Channel)?
    private let tcpChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, Never>, Never>?
    private let stopping = NIOLockedValueBox(false)
    private let activeConnections = NIOLockedValueBox(0)

    /// The source names of the bound inputs, as events carry them.
    public let sources: [String]
    /// The UDP port bound (the configured one, or the kernel's choice for port 0).
    public let udpPort: Int?
    /// The TCP port bound.
    public let tcpPort: Int?
    private let tcpSource: String

    private init(
        configuration: SyslogConfiguration,
        queue: SyslogQueue,
        counters: AgentCounters,
        logger: Logger,
        unixSocket: UnixDatagramSocket?,
        udpChannel: (any Channel)?,
        tcpChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, Never>, Never>?
    ) {
        self.configuration = configuration
        self.queue = queue
        self.counters = counters
        self.logger = logger
        self.unixSocket = unixSocket
        self.udpChannel = udpChannel
        self.tcpChannel = tcpChannel
        self.udpPort = udpChannel.flatMap { $0.localAddress?.port }
        self.tcpPort = tcpChannel.flatMap { $0.channel.localAddress?.port }
        var sources: [String] = []
        if let path = unixSocket?.path { sources.append("syslog:unix:\(path)") }
        if let udp = configuration.udp, let port = self.udpPort {
            sources.append("syslog:udp:\(SyslogConfiguration.Address(host: udp.host, port: port))")
        }
        self.tcpSource =
            "syslog:tcp:\(SyslogConfiguration.Address(host: configuration.tcp?.host ?? "", port: self.tcpPort ?? 0))"
        if self.tcpChannel != nil { sources.append(self.tcpSource) }
        self.sources = sources
    }

    /// Opens every configured input, or none: on the first failure the ones already open are closed.
    public static func bind(
        configuration: SyslogConfiguration,
        queue: SyslogQueue,
        counters: AgentCounters,
        logger: Logger,
        group: MultiThreadedEventLoopGroup = .singleton
    ) async throws(AgentError) -> SyslogReceiver {
        var unixSocket: UnixDatagramSocket?
        var udpChannel: (any Channel)?
        do {
            if let path = configuration.unixPath {
                do {
                    unixSocket = try UnixDatagramSocket.bind(path: path)
                } catch {
                    throw AgentError.cannotListen("\(error)")
                }
            }
            if let udp = configuration.udp {
                udpChannel = try await Self.bindUDP(
                    udp,
                    configuration: configuration,
                    queue: queue,
                    counters: counters,
                    group: group
                )
            }
            let tcpChannel = try await configuration.tcp.asyncMap {
                try await Self.bindTCP($0, configuration: configuration, group: group)
            }
            let receiver = SyslogReceiver(
                configuration: configuration,
                queue: queue,
                counters: counters,
                logger: logger,
                unixSocket: unixSocket,
                udpChannel: udpChannel,
                tcpChannel: tcpChannel
            )
            for source in receiver.sources { queue.announce(source) }
            return receiver
        } catch let error as AgentError {
            unixSocket?.close()
            try? await udpChannel?.close()
            throw error
        } catch {
            unixSocket?.close()
            try? await udpChannel?.close()
            throw AgentError.cannotListen("\(error)")
        }
    }

    private static func bindUDP(
        _ address: SyslogConfiguration.Address,
        configuration: SyslogConfiguration,
        queue: SyslogQueue,
        counters: AgentCounters,
        group: MultiThreadedEventLoopGroup
    ) async throws(AgentError) -> any Channel {
        do {
            return try await DatagramBootstrap(group: group)
                // One byte more than a message may have: a datagram that fills the buffer was cut by the kernel.
                .channelOption(
                    .recvAllocator,
                    value: FixedSizeRecvByteBufferAllocator(capacity: configuration.maxMessageBytes + 1)
                )
                .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            SyslogDatagramHandler(
                                queue: queue,
                                address: address,
                                maxMessageBytes: configuration.maxMessageBytes,
                                counters: counters
                            )
                        )
                    }
                }
                .bind(host: address.host, port: address.port)
                .get()
        } catch {
            throw AgentError.cannotListen("udp \(address): \(Self.describe(error))")
        }
    }

    private static func bindTCP(
        _ address: SyslogConfiguration.Address,
        configuration: SyslogConfiguration,
        group: MultiThreadedEventLoopGroup
    ) async throws(AgentError) -> NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, Never>, Never> {
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(SyslogFrameDecoder(maxMessageBytes: configuration.maxMessageBytes))
                        )
                        // A few messages wait per connection; while the queue is full the consumer waits, this
                        // buffer fills, the channel stops reading and TCP pushes back on the sender.
                        return try NIOAsyncChannel<ByteBuffer, Never>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8))
                        )
                    }
                }
        } catch {
            throw AgentError.cannotListen("tcp \(address): \(Self.describe(error))")
        }
    }

    /// NIO's description of a failed bind carries its own punctuation; say it plainly.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }

    // MARK: - Running

    public func run() async throws {
        for source in self.sources {
            self.logger.info("Listening for syslog", metadata: ["syslog.source": "\(source)"])
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    if let socket = self.unixSocket { group.addTask { await self.readUnix(socket) } }
                    if let channel = self.udpChannel { group.addTask { try? await channel.closeFuture.get() } }
                    if let channel = self.tcpChannel { group.addTask { await self.acceptLoop(channel) } }
                }
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        self.stop()
        self.logger.info("Stopped listening for syslog")
    }

    /// Closes every input; messages already queued stay for the collector.
    private func stop() {
        self.stopping.withLockedValue { $0 = true }
        self.queue.close()
        self.unixSocket?.interrupt()
        self.udpChannel?.close(promise: nil)
        self.tcpChannel?.channel.close(promise: nil)
    }

    /// Receives on the Unix socket in a thread of its own (`recvmsg` blocks) until ``stop()``; then closes the
    /// socket and removes its file.
    private func readUnix(_ socket: UnixDatagramSocket) async {
        let source = "syslog:unix:\(socket.path)"
        let (queue, counters, logger, stopping) = (self.queue, self.counters, self.logger, self.stopping)
        let maxBytes = self.configuration.maxMessageBytes
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                var buffer = [UInt8](repeating: 0, count: maxBytes)
                var failures: UInt64 = 0
                receiving: while !stopping.withLockedValue({ $0 }) {
                    switch socket.receive(into: &buffer) {
                    case .datagram(let length, let truncated, let credentials):
                        let bytes = SyslogMessage.trimmed(buffer[..<length])
                        guard !bytes.isEmpty else { continue }
                        if truncated { counters.add("syslog_truncated") }
                        queue.offer(
                            SyslogMessage(
                                source: source,
                                bytes: bytes,
                                observedNanos: WallClock.nowNanos(),
                                credentials: credentials,
                                truncated: truncated
                            )
                        )
                    case .timedOut:
                        continue
                    case .closed:
                        break receiving
                    case .failed(let error):
                        failures += 1
                        counters.add("syslog_receive_errors")
                        if failures & (failures - 1) == 0 {
                            logger.warning(
                                "Cannot receive on the syslog socket",
                                metadata: [
                                    "syslog.source": "\(source)", "error": "\(String(cString: strerror(error)))",
                                    "failures": "\(failures)",
                                ]
                            )
                        }
                        // Whatever failed (memory, say) gets a moment before the next try.
                        usleep(50_000)
                    }
                }
                socket.close()
                done.resume()
            }
            thread.name = "flightlog-syslog"
            thread.start()
        }
    }

    /// Accepts TCP connections, each read in a child task, up to `max_connections` at once.
    private func acceptLoop(_ server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, Never>, Never>) async {
        let source = self.tcpSource
        var refused: UInt64 = 0
        await withDiscardingTaskGroup { group in
            try? await server.executeThenClose { inbound in
                for try await connection in inbound {
                    let peer = connection.channel.remoteAddress.map { "\($0)" } ?? "unknown"
                    let admitted = self.activeConnections.withLockedValue { count -> Bool in
                        guard count < self.configuration.maxConnections else { return false }
                        count += 1
                        return true
                    }
                    guard admitted else {
                        refused += 1
                        self.counters.add("syslog_connections_refused")
                        if refused & (refused - 1) == 0 {
                            self.logger.warning(
                                "Refusing syslog connections: at the connection limit",
                                metadata: [
                                    "peer.address": "\(peer)", "refused": "\(refused)",
                                    "connections.limit": "\(self.configuration.maxConnections)",
                                ]
                            )
                        }
                        connection.channel.close(promise: nil)
                        continue
                    }
                    group.addTask {
                        await withGracefulShutdownHandler {
                            await self.read(connection, source: source, peer: peer)
                        } onGracefulShutdown: {
                            connection.channel.close(promise: nil)
                        }
                        self.activeConnections.withLockedValue { $0 -= 1 }
                    }
                }
            }
        }
    }

    /// Queues the messages of one TCP connection, waiting while the queue is full; a framing error closes it.
    private func read(_ connection: NIOAsyncChannel<ByteBuffer, Never>, source: String, peer: String) async {
        do {
            try await connection.executeThenClose { inbound, _ in
                for try await frame in inbound {
                    await self.queue.push(
                        SyslogMessage(
                            source: source,
                            bytes: Array(frame.readableBytesView),
                            observedNanos: WallClock.nowNanos()
                        )
                    )
                    if self.stopping.withLockedValue({ $0 }) { break }
                }
            }
        } catch {
            self.counters.add("syslog_frame_errors")
            let message = (error as? AgentError).map { "\($0)" } ?? "\(error)"
            self.logger.warning(
                "Closed a syslog connection",
                metadata: ["peer.address": "\(peer)", "syslog.source": "\(source)", "error": "\(message)"]
            )
        }
    }
}

extension Optional {
    /// `map` with an async, throwing transform.
    fileprivate func asyncMap<T, E: Error>(_ transform: (Wrapped) async throws(E) -> T) async throws(E) -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

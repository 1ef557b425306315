public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import ServiceLifecycle

/// A minimal HTTP/1.1 server answering `GET /metrics` with the Prometheus text format (version 0.0.4), for
/// `flightlog serve --metrics-listen` and `flightlog-agent run --metrics-listen`.
///
/// It serves nothing else: `/` and `/-/healthy` say where the metrics are, other paths get 404, other methods 405.
/// Every connection is closed after one answer, or after ``requestDeadline`` without a complete request, and at most
/// ``maxConnections`` are served at once: a scraper needs one, and a port scan or a stuck client must not pile up
/// sockets in the aggregator. NIO's HTTP parser bounds the request head (80 KiB); a body is read and dropped.
public final class MetricsEndpoint: Service {
    /// How long a client may take to send its request.
    public static let requestDeadline = TimeAmount.seconds(10)
    /// Connections served at once; more are closed at once.
    public static let maxConnections = 64

    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, ResponsePart>, Never>
    private let render: @Sendable () async -> String
    private let logger: Logger
    private let active = NIOLockedValueBox(0)

    /// The port actually bound (port 0 picks one).
    public let port: Int

    /// Binds the socket (throws when the address cannot be bound); serving starts with ``run()``. `render` is called
    /// for each scrape and returns the whole exposition.
    public init(
        host: String,
        port: Int,
        logger: Logger,
        group: MultiThreadedEventLoopGroup = .singleton,
        render: @escaping @Sendable () async -> String
    ) async throws {
        self.render = render
        self.logger = logger
        self.serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try sync.addHandler(ByteBufferResponseHandler())
                    return try NIOAsyncChannel<HTTPServerRequestPart, ResponsePart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        self.port = self.serverChannel.channel.localAddress?.port ?? port
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                try? await self.serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        let admitted = self.active.withLockedValue { count -> Bool in
                            guard count < Self.maxConnections else { return false }
                            count += 1
                            return true
                        }
                        guard admitted else {
                            try? await connection.channel.close()
                            continue
                        }
                        group.addTask {
                            await self.serve(connection)
                            self.active.withLockedValue { $0 -= 1 }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.serverChannel.channel.close(promise: nil)
        }
    }

    /// One request, one answer, then close.
    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, ResponsePart>) async {
        // A whole-request deadline, not an idle one: a byte every few seconds does not keep a slot.
        let channel = connection.channel
        let deadline = channel.eventLoop.scheduleTask(in: Self.requestDeadline) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let request): head = request
                    case .body: continue
                    case .end: break
                    }
                    guard case .end = part, let request = head else { continue }
                    let answer = await self.answer(request)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: answer.contentType)
                    headers.add(name: "Content-Length", value: String(answer.body.utf8.count))
                    headers.add(name: "Connection", value: "close")
                    headers.add(name: "Cache-Control", value: "no-store")
                    try await outbound.write(
                        .head(HTTPResponseHead(version: request.version, status: answer.status, headers: headers))
                    )
                    if request.method != .HEAD {
                        try await outbound.write(.body(ByteBuffer(string: answer.body)))
                    }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        } catch {
            self.logger.debug("Metrics request ended early", metadata: ["error": "\(error)"])
        }
    }

    private func answer(_ request: HTTPRequestHead) async -> Answer {
        guard request.method == .GET || request.method == .HEAD else {
            return Answer(status: .methodNotAllowed, body: "only GET /metrics\n")
        }
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        switch path {
        case "/metrics":
            return Answer(
                status: .ok,
                body: await self.render(),
                contentType: "text/plain; version=0.0.4; charset=utf-8"
            )
        case "/", "/-/healthy":
            return Answer(status: .ok, body: "flightlog metrics: GET /metrics\n")
        default:
            return Answer(status: .notFound, body: "not found: the metrics are at /metrics\n")
        }
    }

    private struct Answer {
        var status: HTTPResponseStatus
        var body: String
        var contentType = "text/plain; charset=utf-8"
    }
}

/// What the async side writes: heads and `ByteBuffer` bodies (NIO's encoder takes `IOData`).
typealias ResponsePart = HTTPPart<HTTPResponseHead, ByteBuffer>

/// Turns ``ResponsePart`` into the `HTTPServerResponsePart` NIO's response encoder takes.
private final class ByteBufferResponseHandler: ChannelOutboundHandler {
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch Self.unwrapOutboundIn(data) {
        case .head(let head): context.write(Self.wrapOutboundOut(.head(head)), promise: promise)
        case .body(let buffer): context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: promise)
        case .end(let trailers): context.write(Self.wrapOutboundOut(.end(trailers)), promise: promise)
        }
    }
}

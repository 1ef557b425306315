import FlightlogTLS
import FlightlogWire
import Logging
import NIOCore
import NIOSSL

/// The first handler of every connection: tells a TLS ClientHello (a record starting with byte 0x16, handshake)
/// from a plaintext frame (whose length starts with 0x00, since no frame reaches 16 MiB) by the first byte
/// (PROTOCOL.md §2).
///
/// - With TLS, a ClientHello gets the TLS handler put in place; a plaintext frame is answered with a plaintext ERROR
///   `tlsRequired` before the connection closes, so that a misconfigured agent learns why.
/// - Without TLS (`--insecure-plaintext`), a ClientHello is answered with a plaintext ERROR `tlsNotEnabled` (which
///   the agent's TLS layer reports as a plaintext answer) and the connection closes.
///
/// Both sides log the mismatch, and `serve` counts it (`tls_failures.plaintext_agent`, `tls_failures.tls_agent`).
final class TransportGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let credentials: ServerCredentials?
    private let metrics: AggregatorMetrics
    private let logger: Logger

    init(credentials: ServerCredentials?, metrics: AggregatorMetrics, logger: Logger) {
        self.credentials = credentials
        self.metrics = metrics
        self.logger = logger
    }

    /// The first byte of a TLS handshake record.
    static let handshakeRecord: UInt8 = 0x16

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        let speaksTLS = first == Self.handshakeRecord
        switch (self.credentials, speaksTLS) {
        case (let credentials?, true):
            do {
                let handler = NIOSSLServerHandler(context: credentials.context)
                try context.pipeline.syncOperations.addHandler(handler, position: .after(self))
            } catch {
                self.logger.error("Cannot start TLS on a connection", metadata: ["error": "\(error)"])
                context.close(promise: nil)
                return
            }
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case (nil, false):
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case (.some, false):
            self.refuse(
                context,
                .tlsRequired,
                counter: "tls_failures.plaintext_agent",
                log: "An agent connected in plaintext; this aggregator requires TLS",
                message: "this aggregator requires TLS: give the agent --ca or --pin (see flightlog tls-init)"
            )
        case (nil, true):
            self.refuse(
                context,
                .tlsNotEnabled,
                counter: "tls_failures.tls_agent",
                log: "An agent started TLS; this aggregator runs with --insecure-plaintext",
                message: "this aggregator runs without TLS (--insecure-plaintext)"
            )
        }
    }

    private func refuse(
        _ context: ChannelHandlerContext,
        _ code: ErrorCode,
        counter: String,
        log: Logger.Message,
        message: String
    ) {
        self.metrics.add(counter)
        self.logger.warning(log, metadata: ["peer.address": "\(context.remoteAddress?.description ?? "?")"])
        var frame = ByteBuffer()
        frame.writeFrame(.error(ErrorMessage(code: code, message: message)))
        let channel = context.channel
        context.writeAndFlush(NIOAny(frame)).whenComplete { _ in channel.close(promise: nil) }
    }
}

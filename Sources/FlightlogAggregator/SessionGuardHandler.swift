import FlightlogWire
import NIOCore

/// Enforces the session's deadlines on the channel: the handshake deadline, the idle timeout (3 × heartbeat
/// interval without a frame) and the aggregator's own heartbeats (PROTOCOL.md §7).
///
/// It sits between the frame codec and the async channel, behind an `IdleStateHandler` that counts frames.
final class SessionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame

    private let handshakeTimeout: TimeAmount
    private let handshakeLimit: HandshakeLimit
    private var handshakeDeadline: Scheduled<Void>?
    private var established = false

    /// `handshakeLimit` is shared with the connection's frame decoder, which accepts full-size frames once WELCOME
    /// has gone out.
    init(handshakeTimeout: TimeAmount, handshakeLimit: HandshakeLimit) {
        self.handshakeTimeout = handshakeTimeout
        self.handshakeLimit = handshakeLimit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.armHandshakeDeadline(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.armHandshakeDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.handshakeDeadline?.cancel()
        context.fireChannelInactive()
    }

    private func armHandshakeDeadline(context: ChannelHandlerContext) {
        guard self.handshakeDeadline == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.handshakeDeadline = context.eventLoop.scheduleTask(in: self.handshakeTimeout) {
            let (handler, context) = loopBound.value
            guard !handler.established else { return }
            handler.fail(context: context, code: .timeout, message: "handshake not completed in time")
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .welcome = self.unwrapOutboundIn(data) {
            self.established = true
            self.handshakeLimit.markComplete()
            self.handshakeDeadline?.cancel()
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard self.established else { return }
        switch idle {
        case .read:
            self.fail(context: context, code: .timeout, message: "no frame received within 3 heartbeat intervals")
        case .write:
            let heartbeat = Frame.heartbeat(Heartbeat(timeNanos: WallClock.nowNanos()))
            context.writeAndFlush(self.wrapOutboundOut(heartbeat), promise: nil)
        case .all:
            break
        }
    }

    private func fail(context: ChannelHandlerContext, code: ErrorCode, message: String) {
        let frame = Frame.error(ErrorMessage(code: code, message: message))
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(frame)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

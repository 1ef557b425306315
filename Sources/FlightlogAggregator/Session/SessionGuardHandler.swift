import FlightlogSystem
import FlightlogWire
import NIOCore

/// Enforces the session's deadlines on the channel: the handshake deadline, the idle timeout (3 × heartbeat
/// interval without a frame) and the aggregator's own heartbeats (PROTOCOL.md §7). What each firing means is
/// ``SessionDeadlines``'s decision; this handler owns the timers and carries it out.
///
/// It sits between the frame codec and the async channel, behind an `IdleStateHandler` that counts frames, and
/// tells the deadlines whether the server is asking for data: ``read(context:)`` calls pass through here.
final class SessionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame

    private let handshakeTimeout: TimeAmount
    private let handshakeLimit: HandshakeLimit
    private let metrics: AggregatorMetrics
    private var handshakeDeadline: Scheduled<Void>?
    private var deadlines: SessionDeadlines

    /// `handshakeLimit` is shared with the connection's frame decoder, which accepts full-size frames once WELCOME
    /// has gone out; `idleTimeout` is the `IdleStateHandler`'s read timeout.
    init(
        handshakeTimeout: TimeAmount,
        idleTimeout: TimeAmount,
        handshakeLimit: HandshakeLimit,
        metrics: AggregatorMetrics
    ) {
        self.handshakeTimeout = handshakeTimeout
        self.handshakeLimit = handshakeLimit
        self.metrics = metrics
        self.deadlines = SessionDeadlines(idleTimeout: idleTimeout)
    }

    func read(context: ChannelHandlerContext) {
        self.deadlines.readRequested(at: .now())
        context.read()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.deadlines.readCompleted()
        context.fireChannelReadComplete()
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
            handler.perform(handler.deadlines.handshakeDeadlinePassed(), context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .welcome = self.unwrapOutboundIn(data) {
            self.handshakeLimit.markComplete()
            self.deadlines.welcomeSent()
            self.handshakeDeadline?.cancel()
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch idle {
        case .read: self.perform(self.deadlines.readIdle(at: .now()), context: context)
        case .write: self.perform(self.deadlines.writeIdle(wallClockNanos: WallClock.nowNanos()), context: context)
        case .all: break
        }
    }

    private func perform(_ action: SessionDeadlines.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .send(let frame):
            context.writeAndFlush(self.wrapOutboundOut(frame), promise: nil)
        case .forgive:
            self.metrics.add("idle_while_paused")
        case .fail(let error, let counter):
            self.metrics.add(counter)
            let channel = context.channel
            context.writeAndFlush(self.wrapOutboundOut(.error(error))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}

import FlightlogWire
import NIOCore

/// Enforces the session's deadlines on the channel: the handshake deadline, the idle timeout (3 × heartbeat
/// interval without a frame) and the aggregator's own heartbeats (PROTOCOL.md §7).
///
/// It sits between the frame codec and the async channel, behind an `IdleStateHandler` that counts frames.
///
/// Silence counts against the agent only while the server is reading. When the database is slow, sessions stop
/// taking frames and the async channel stops asking the socket for more (backpressure): the agent's frames and
/// heartbeats then wait in the socket, unread, and a read timeout at that point would cut off live agents for the
/// server's own delay (and their resends would add to the load). ``read(context:)`` calls that pass through here
/// tell whether the server is asking for data; an idle period without one is counted (`idle_while_paused`) and
/// forgiven, and after such a pause the agent gets a full idle period from the moment reading resumes.
final class SessionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    typealias OutboundIn = Frame
    typealias OutboundOut = Frame

    private let handshakeTimeout: TimeAmount
    private let handshakeLimit: HandshakeLimit
    private let metrics: AggregatorMetrics
    private var handshakeDeadline: Scheduled<Void>?
    private let idleTimeout: TimeAmount
    /// A read was asked of the socket and has not completed: the server is waiting on the peer.
    private var reading = false
    /// An idle period was forgiven because reading was paused, and reading has not resumed since.
    private var paused = false
    /// When reading resumed after such a pause.
    private var resumed: NIODeadline?

    /// `handshakeLimit` is shared with the connection's frame decoder, which accepts full-size frames once WELCOME
    /// has gone out; `idleTimeout` is the `IdleStateHandler`'s read timeout.
    init(
        handshakeTimeout: TimeAmount,
        idleTimeout: TimeAmount,
        handshakeLimit: HandshakeLimit,
        metrics: AggregatorMetrics
    ) {
        self.handshakeTimeout = handshakeTimeout
        self.idleTimeout = idleTimeout
        self.handshakeLimit = handshakeLimit
        self.metrics = metrics
    }

    func read(context: ChannelHandlerContext) {
        if !self.reading && self.paused {
            self.paused = false
            self.resumed = .now()
        }
        self.reading = true
        context.read()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.reading = false
        context.fireChannelReadComplete()
    }

    /// WELCOME has gone out (the state the frame decoder shares).
    private var established: Bool { self.handshakeLimit.isComplete }

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
            let sinceResumed = self.resumed.map { NIODeadline.now() - $0 }
            guard self.reading, sinceResumed.map({ $0 >= self.idleTimeout }) ?? true else {
                // Reading is paused by backpressure, or resumed less than an idle period ago: the silence is ours.
                self.metrics.add("idle_while_paused")
                self.paused = !self.reading
                return
            }
            self.fail(context: context, code: .timeout, message: "no frame received within 3 heartbeat intervals")
        case .write:
            let heartbeat = Frame.heartbeat(Heartbeat(timeNanos: WallClock.nowNanos()))
            context.writeAndFlush(self.wrapOutboundOut(heartbeat), promise: nil)
        case .all:
            break
        }
    }

    private func fail(context: ChannelHandlerContext, code: ErrorCode, message: String) {
        self.metrics.add(self.established ? "sessions_timed_out" : "handshakes_timed_out")
        let frame = Frame.error(ErrorMessage(code: code, message: message))
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(frame)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

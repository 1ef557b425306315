import FlightlogWire
import NIOCore

/// Closes the connection when the `IdleStateHandler` before it reports that nothing was read in time: the
/// aggregator is gone (PROTOCOL.md §7.6). The timeout is ``ShipperStateMachine``'s.
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

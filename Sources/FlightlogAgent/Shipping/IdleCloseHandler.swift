import FlightlogWire
import NIOCore

/// Closes the connection when the `IdleStateHandler` before it reports that nothing was read in time: the
/// aggregator is gone (PROTOCOL.md §7.6). The timeout is ``ShipperStateMachine``'s.
///
/// The frames read so far are then followed by ``Silence``, so that the connection ends for that reason and not as a
/// close by the aggregator.
final class IdleCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame

    /// Nothing was read from the aggregator within the read timeout.
    struct Silence: Error {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.fireErrorCaught(Silence())
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

public import NIOCore
import Synchronization

/// NIO outbound encoder: ``Frame``s to bytes.
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        out.writeFrame(data)
    }
}

public import NIOCore
import Synchronization

/// NIO inbound decoder: bytes to ``Frame``s, by ``FrameParser``.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    private var parser: FrameParser
    private let handshake: HandshakeLimit?

    public init(maxFrameLength: Int = WireLimits.maxFrameLength) {
        self.parser = FrameParser(maxFrameLength: maxFrameLength)
        self.handshake = nil
    }

    /// A decoder that accepts frames up to ``WireLimits/maxHandshakeFrameLength`` until `handshake` is marked
    /// complete, and up to ``WireLimits/maxFrameLength`` after (the aggregator's side of PROTOCOL.md §7.2).
    public init(handshake: HandshakeLimit) {
        self.parser = FrameParser(maxFrameLength: WireLimits.maxHandshakeFrameLength)
        self.handshake = handshake
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if self.parser.maxFrameLength < WireLimits.maxFrameLength, self.handshake?.isComplete == true {
            self.parser.maxFrameLength = WireLimits.maxFrameLength
        }
        guard let frame = try self.parser.nextFrame(buffer: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}

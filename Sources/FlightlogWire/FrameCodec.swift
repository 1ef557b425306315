public import NIOCore

/// NIO inbound decoder: bytes to ``Frame``s, by ``FrameParser``.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    private var parser: FrameParser

    public init(maxFrameLength: Int = WireLimits.maxFrameLength) {
        self.parser = FrameParser(maxFrameLength: maxFrameLength)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
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

/// NIO outbound encoder: ``Frame``s to bytes.
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        out.writeFrame(data)
    }
}

public import FlightlogWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One client connection; frames received are buffered and taken with a deadline.
public final class TestConnection: Sendable {
    private let channel: any Channel
    private let inbox: Inbox

    final class Inbox: ChannelInboundHandler, Sendable {
        typealias InboundIn = Frame
        let state = NIOLockedValueBox<(frames: [Frame], closed: Bool, error: (any Error)?)>(([], false, nil))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = Self.unwrapInboundIn(data)
            self.state.withLockedValue { $0.frames.append(frame) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.state.withLockedValue { $0.closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.state.withLockedValue { $0.error = error }
            context.close(promise: nil)
        }
    }

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    public static func connect(port: Int) async throws -> TestConnection {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    try channel.pipeline.syncOperations.addHandler(inbox)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return TestConnection(channel: channel, inbox: inbox)
    }

    public func send(_ frame: Frame) async throws {
        try await self.channel.writeAndFlush(frame)
    }

    public func sendRaw(_ bytes: [UInt8]) async throws {
        let buffer = ByteBuffer(bytes: bytes)
        // Below the encoder: raw bytes go straight to the socket.
        try await self.channel.pipeline.context(handlerType: ByteToMessageHandler<FrameDecoder>.self).flatMap {
            context in
            context.writeAndFlush(NIOAny(buffer))
        }.get()
    }

    /// The next frame, or nil once the server closed the connection; throws after `seconds` without either.
    public func receive(seconds: Double = 60) async throws -> Frame? {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while true {
            let next = self.inbox.state.withLockedValue { state -> (Frame?, Bool) in
                if !state.frames.isEmpty { return (state.frames.removeFirst(), false) }
                return (nil, state.closed)
            }
            if let frame = next.0 { return frame }
            if next.1 { return nil }
            guard ContinuousClock.now < deadline else { throw TestFailure("no frame within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Receives frames, skipping heartbeats, until one that is not a heartbeat (or the close).
    public func receiveSkippingHeartbeats(seconds: Double = 60) async throws -> Frame? {
        while true {
            let frame = try await self.receive(seconds: seconds)
            if case .heartbeat = frame { continue }
            return frame
        }
    }

    /// Waits until the server closed the connection.
    public func waitClosed(seconds: Double = 60) async throws {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        while !self.inbox.state.withLockedValue({ $0.closed }) {
            guard ContinuousClock.now < deadline else { throw TestFailure("connection still open after \(seconds) s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    public func close() async {
        try? await self.channel.close()
    }
}

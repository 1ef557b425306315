public import Crypto
public import FlightlogWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A protocol client built from FlightlogWire alone, driving the real server over loopback TCP.
public struct TestAgent: Sendable {
    public let key: Curve25519.Signing.PrivateKey
    public var name: String
    public var epoch: UInt64

    public init(name: String, epoch: UInt64 = 1, key: Curve25519.Signing.PrivateKey = Curve25519.Signing.PrivateKey()) {
        self.key = key
        self.name = name
        self.epoch = epoch
    }

    public var publicKey: Bytes32 { Bytes32(self.key.publicKey.rawRepresentation) ?? .zero }
    public var publicKeyBase64: String { self.key.publicKey.rawRepresentation.base64EncodedString() }
    public var keyID: Bytes32 { KeyID.of(self.key.publicKey) }

    public func hello() -> Frame {
        .hello(
            Hello(
                publicKey: self.publicKey,
                epoch: self.epoch,
                agentTimeNanos: 1_700_000_000_000_000_000,
                agentName: self.name
            )
        )
    }

    /// Events with distinct lines `"\(prefix) n"`.
    public func events(_ count: Int, prefix: String) -> [Event] {
        (0..<count).map { n in
            Event(
                timeNanos: 1_700_000_000_000_000_000 + Int64(n),
                observedNanos: 1_700_000_000_000_000_000 + Int64(n),
                host: self.name,
                source: "/var/log/test.log",
                line: Array("\(prefix) \(n) user=mchen".utf8),
                fields: [Event.Field("user", "mchen"), Event.Field("program", "sshd")]
            )
        }
    }

    public func batch(sequence: UInt64, previous: Bytes32, events: [Event], epoch: UInt64? = nil) throws -> SignedBatch
    {
        try SignedBatch.build(
            events: events,
            header: BatchHeader(
                keyID: self.keyID,
                epoch: epoch ?? self.epoch,
                sequence: sequence,
                previousHash: previous,
                createdNanos: 1_700_000_000_000_000_000,
                events: events
            ),
            signingKey: self.key
        )
    }

    /// A chain of `count` batches starting at sequence 1.
    public func chain(_ count: Int, eventsPerBatch: Int = 5, tag: String = "line") throws -> [SignedBatch] {
        var previous = Bytes32.zero
        var batches: [SignedBatch] = []
        for sequence in 1...max(count, 1) where count > 0 {
            let batch = try self.batch(
                sequence: UInt64(sequence),
                previous: previous,
                events: self.events(eventsPerBatch, prefix: "\(self.name) \(tag) b\(sequence)")
            )
            previous = batch.hash
            batches.append(batch)
        }
        return batches
    }

    public func connect(port: Int) async throws -> TestConnection {
        try await TestConnection.connect(port: port)
    }

    /// Connects and completes the handshake; returns the connection and the WELCOME. Each reply is waited for up
    /// to `seconds`.
    public func open(port: Int, seconds: Double = 60) async throws -> (TestConnection, Welcome) {
        let connection = try await self.connect(port: port)
        try await connection.send(self.hello())
        guard case .challenge(let challenge) = try await connection.receive(seconds: seconds) else {
            await connection.close()
            throw TestFailure("expected CHALLENGE")
        }
        let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: self.publicKey, epoch: self.epoch)
        try await connection.send(.proof(Proof(signature: Array(try self.key.signature(for: message)))))
        let reply = try await connection.receive(seconds: seconds)
        guard case .welcome(let welcome) = reply else {
            await connection.close()
            throw TestFailure("expected WELCOME, got \(String(describing: reply))")
        }
        return (connection, welcome)
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

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

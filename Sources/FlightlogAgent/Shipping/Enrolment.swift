public import Crypto
import FlightlogSystem
public import FlightlogWire
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The agent's one-shot exchanges of protocol version 2 (PROTOCOL.md §4.10–4.13): enrolment with a token and the
/// hand-over of its chain to a new key. Each opens a connection (over TLS unless configured for plaintext), sends
/// HELLO, answers the CHALLENGE with ENROLL or ROTATE, reads the answer and the WELCOME after it, says GOODBYE.
public enum Enrolment {
    /// What the aggregator answered.
    public enum Answer: Equatable, Sendable {
        case enrolled(name: String)
        case rotated(epoch: UInt64)
    }

    /// Enrols `key` with `token`. The token is sent only over TLS to an aggregator the agent has authenticated
    /// (pin or CA), unless both sides run with `--insecure-plaintext`.
    public static func enrol(
        token: String,
        key: Curve25519.Signing.PrivateKey,
        epoch: UInt64,
        configuration: AgentConfiguration,
        tls: ShipperTLS?
    ) async throws -> Answer {
        let publicKey = Bytes32(key.publicKey.rawRepresentation) ?? .zero
        return try await Self.exchange(
            hello: Hello(
                publicKey: publicKey,
                epoch: epoch,
                agentTimeNanos: WallClock.nowNanos(),
                agentName: configuration.hostname
            ),
            configuration: configuration,
            tls: tls
        ) { challenge in
            let message = Handshake.enrolmentMessage(
                nonce: challenge.nonce,
                publicKey: publicKey,
                epoch: epoch,
                token: token
            )
            return .enroll(Enroll(token: token, signature: Array(try key.signature(for: message))))
        }
    }

    /// Sends `record` (signed by both keys) for the key and epoch it names.
    public static func rotate(
        _ record: RotationRecord,
        configuration: AgentConfiguration,
        tls: ShipperTLS?
    ) async throws -> Answer {
        try await Self.exchange(
            hello: Hello(
                publicKey: record.oldPublicKey,
                epoch: record.oldEpoch,
                agentTimeNanos: WallClock.nowNanos(),
                agentName: configuration.hostname
            ),
            configuration: configuration,
            tls: tls
        ) { _ in .rotate(record) }
    }

    private static func exchange(
        hello: Hello,
        configuration: AgentConfiguration,
        tls: ShipperTLS?,
        answer: @Sendable (Challenge) throws -> Frame
    ) async throws -> Answer {
        let host = configuration.aggregatorHost
        let channel: NIOAsyncChannel<Frame, Frame>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: configuration.aggregatorPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        if let tls { try sync.addHandler(try tls.handler(host: host)) }
                        try sync.addHandler(ByteToMessageHandler(FrameDecoder()))
                        try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                        return try NIOAsyncChannel<Frame, Frame>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw AgentError.connection(
                "cannot reach the aggregator at \(host):\(configuration.aggregatorPort): \(error)"
            )
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                func next() async throws -> Frame {
                    guard let frame = try await frames.next() else {
                        throw AgentError.protocolViolation("the aggregator closed the connection")
                    }
                    if case .error(let error) = frame {
                        throw AgentError.refused(
                            code: error.code.map { "\($0)" } ?? "\(error.rawCode)",
                            message: error.message
                        )
                    }
                    return frame
                }
                try await outbound.write(.hello(hello))
                guard case .challenge(let challenge) = try await next() else {
                    throw AgentError.protocolViolation("expected CHALLENGE")
                }
                guard challenge.version >= 2 else {
                    try? await outbound.write(.goodbye(Goodbye(message: "version 2 needed")))
                    throw AgentError.connection(
                        "the aggregator speaks protocol version \(challenge.version) only: it cannot enrol with a "
                            + "token or rotate keys; upgrade it, or enrol the key with `flightlog enroll`"
                    )
                }
                try await outbound.write(try answer(challenge))
                let result: Answer
                switch try await next() {
                case .enrolled(let enrolled): result = .enrolled(name: enrolled.agentName)
                case .rotated(let rotated): result = .rotated(epoch: rotated.newEpoch)
                case let other: throw AgentError.protocolViolation("unexpected \(other.type)")
                }
                guard case .welcome = try await next() else {
                    throw AgentError.protocolViolation("expected WELCOME")
                }
                try? await outbound.write(.goodbye(Goodbye(message: "done")))
                return result
            }
        } catch let error as NIOSSLError {
            throw AgentError.connection(tls?.describe(error) ?? "\(error)")
        } catch let error as BoringSSLError {
            throw AgentError.connection(tls?.describe(error) ?? "\(error)")
        }
    }
}

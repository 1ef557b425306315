import FlightlogAggregator
import FlightlogTestSupport
import FlightlogWire
import NIOCore
import Testing

@testable import FlightlogStore

/// Frames before WELCOME are held to the handshake's size (PROTOCOL.md §3 rule 2): a peer that has proved no key
/// cannot make the server buffer a large frame, on however many connections.
@Suite("The handshake frame limit")
struct HandshakeFrameLimitTests {
    /// A length field just over the limit, and the type byte; the body never comes.
    private static let overLimit: [UInt8] = {
        let length = UInt32(WireLimits.maxHandshakeFrameLength + 1)
        return [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
            + [0x03]
    }()

    @Test func aLargerFrameBeforeHelloOrProofIsRefusedAtOnce() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-public-key")
        try await withServer(database: dir.file("db.sqlite")) { port, store, metrics in
            // Enrolled: a public key is no secret, so anyone can get past HELLO with it.
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)

            let beforeHello = try await TestConnection.connect(port: port)
            try await beforeHello.sendRaw(Self.overLimit)
            #expect(errorCode(try await beforeHello.receive()) == .frameTooLarge)
            try await beforeHello.waitClosed()

            let beforeProof = try await agent.connect(port: port)
            try await beforeProof.send(agent.hello())
            guard case .challenge = try await beforeProof.receive() else { throw TestFailure("no CHALLENGE") }
            try await beforeProof.sendRaw(Self.overLimit)
            #expect(errorCode(try await beforeProof.receive()) == .frameTooLarge)
            try await beforeProof.waitClosed()
            #expect(metrics["frames_rejected.frameTooLarge"] == 2)
        }
    }

    /// The largest frame an agent may send before WELCOME (an ERROR with the longest message) is within the limit,
    /// and ends the session without a reply.
    @Test func theLargestHandshakeFrameIsAcceptedAndEndsTheSession() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let error = Frame.error(
            ErrorMessage(code: .internalError, message: String(repeating: "e", count: WireLimits.maxMessageLength))
        )
        var encoded = ByteBuffer()
        encoded.writeFrame(error)
        #expect(encoded.readableBytes == 4 + WireLimits.maxHandshakeFrameLength)
        try await withServer(database: dir.file("db.sqlite")) { port, _, metrics in
            let connection = try await TestConnection.connect(port: port)
            try await connection.send(error)
            #expect(try await connection.receive() == nil)
            #expect(metrics["frames_rejected.frameTooLarge"] == 0)
        }
    }

    /// After WELCOME, frames up to the full limit: a batch several times the handshake limit is stored and acked.
    @Test func afterWelcomeALargeBatchIsAccepted() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-large")
        var random = SystemRandomNumberGenerator()
        let events = agent.events(200, prefix: "large").map { event in
            var event = event
            // Random hex does not compress much: the frame stays large.
            event.line += Array((0..<64).map { _ in String(random.next() as UInt8, radix: 16) }.joined().utf8)
            return event
        }
        let batch = try agent.batch(sequence: 1, previous: .zero, events: events)
        #expect(batch.bytes.count > 4 * WireLimits.maxHandshakeFrameLength)
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let (connection, _) = try await agent.open(port: port)
            try await connection.send(.batch(ByteBuffer(bytes: batch.bytes)))
            let reply = try await connection.receiveSkippingHeartbeats()
            #expect(reply == .ack(Ack(epoch: 1, sequence: 1, batchHash: batch.hash, status: .stored)))
            await connection.close()
        }
    }
}

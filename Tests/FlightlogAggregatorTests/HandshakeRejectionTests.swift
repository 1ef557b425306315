import Crypto
import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import NIOCore
import Testing

@testable import FlightlogStore

@Suite("Refused handshakes and batches")
struct HandshakeRejectionTests {
    /// Sends HELLO and a PROOF signed by `signer`, returns the first frame after CHALLENGE.
    private func attempt(
        _ agent: TestAgent,
        port: Int,
        signer: Curve25519.Signing.PrivateKey? = nil
    ) async throws -> Frame? {
        let connection = try await agent.connect(port: port)
        try await connection.send(agent.hello())
        guard case .challenge(let challenge) = try await connection.receive() else { throw TestFailure("no CHALLENGE") }
        let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: agent.publicKey, epoch: agent.epoch)
        let signature = try (signer ?? agent.key).signature(for: message)
        try await connection.send(.proof(Proof(signature: Array(signature))))
        let reply = try await connection.receive()
        try await connection.waitClosed()
        return reply
    }

    @Test func unknownAgentIsRefusedAndRecorded() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, store, metrics in
            let reply = try await self.attempt(TestAgent(name: "stranger"), port: port)
            #expect(errorCode(reply) == .unknownAgent)
            #expect(metrics["handshakes_rejected.unknownAgent"] == 1)
        }
        let outcomes = try await handshakeOutcomes(dir.file("db.sqlite"))
        #expect(outcomes == ["unknownAgent"])
    }

    @Test func revokedAgentIsRefused() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-revoked")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await store.revoke(name: agent.name, atNanos: 2)
            #expect(errorCode(try await self.attempt(agent, port: port)) == .revokedAgent)
        }
    }

    @Test func proofByAnotherKeyIsRefused() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-proof")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let reply = try await self.attempt(agent, port: port, signer: Curve25519.Signing.PrivateKey())
            #expect(errorCode(reply) == .badProof)
        }
    }

    @Test func badMagicIsRefused() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, _, _ in
            let connection = try await TestConnection.connect(port: port)
            var hello = TestAgent(name: "x").hello().encoded
            hello.setBytes(Array("FLOX".utf8), at: 5)
            try await connection.sendRaw(Array(hello.readableBytesView))
            #expect(errorCode(try await connection.receive()) == .badMagic)
            try await connection.waitClosed()
        }
    }

    @Test func oversizedFrameIsRefusedBeforeAllocation() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, _, _ in
            let connection = try await TestConnection.connect(port: port)
            try await connection.sendRaw([0xff, 0xff, 0xff, 0xf0, 0x10])
            #expect(errorCode(try await connection.receive()) == .frameTooLarge)
            try await connection.waitClosed()
        }
    }

    @Test func batchBeforeHandshakeIsUnexpected() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-early")
        try await withServer(database: dir.file("db.sqlite")) { port, _, _ in
            let connection = try await agent.connect(port: port)
            try await connection.send(.batch(ByteBuffer(bytes: try agent.chain(1)[0].bytes)))
            #expect(errorCode(try await connection.receive()) == .unexpectedFrame)
            try await connection.waitClosed()
        }
    }

    @Test func handshakeDeadlineClosesSilentPeers() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        var configuration = AggregatorConfiguration.loopback()
        configuration.handshakeTimeoutSeconds = 1
        try await withServer(database: dir.file("db.sqlite"), configuration: configuration) {
            port,
            _,
            _ in
            let connection = try await TestConnection.connect(port: port)
            #expect(errorCode(try await connection.receive()) == .timeout)
            try await connection.waitClosed()
        }
    }

    @Test func connectionsBeyondTheLimitAreRefusedBusy() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-busy")
        var configuration = AggregatorConfiguration.loopback()
        configuration.maxConnections = 1
        try await withServer(database: dir.file("db.sqlite"), configuration: configuration) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let (first, _) = try await agent.open(port: port)
            let second = try await agent.connect(port: port)
            #expect(errorCode(try await second.receive()) == .serverBusy)
            try await second.waitClosed()
            await first.close()
        }
    }

    enum BatchDefect: String, CaseIterable {
        case badSignature, keyMismatch, wrongEpoch, garbage
    }

    @Test(arguments: BatchDefect.allCases)
    func defectiveBatchIsRefusedWithItsCode(_ defect: BatchDefect) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-\(defect.rawValue)")
        var configuration = AggregatorConfiguration.loopback()
        configuration.window = 2
        try await withServer(database: dir.file("db.sqlite"), configuration: configuration) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let (connection, _) = try await agent.open(port: port)
            let good = try agent.chain(1)[0]
            var frames: [Frame] = []
            let expected: ErrorCode
            switch defect {
            case .badSignature:
                var bytes = good.bytes
                bytes[bytes.count - 1] ^= 0x01
                frames = [.batch(ByteBuffer(bytes: bytes))]
                expected = .badSignature
            case .keyMismatch:
                frames = [.batch(ByteBuffer(bytes: try TestAgent(name: "other").chain(1)[0].bytes))]
                expected = .keyMismatch
            case .wrongEpoch:
                let other = try agent.batch(
                    sequence: 1,
                    previous: .zero,
                    events: agent.events(1, prefix: "e"),
                    epoch: 7
                )
                frames = [.batch(ByteBuffer(bytes: other.bytes))]
                expected = .wrongEpoch
            case .garbage:
                frames = [.batch(ByteBuffer(bytes: [1, 2, 3, 4, 5]))]
                expected = .malformedBatch
            }
            for frame in frames { try await connection.send(frame) }
            let reply = try await connection.receiveSkippingHeartbeats()
            #expect(errorCode(reply) == expected)
            try await connection.waitClosed()
            #expect(try await store.findings().map(\.kind) == [.rejectedBatch])
            #expect(try await store.counts().batches == 0)
        }
    }

    @Test func windowExceededWhileTheDatabaseIsBusy() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-window")
        let path = dir.file("db.sqlite")
        var configuration = AggregatorConfiguration.loopback()
        configuration.window = 2
        try await withServer(database: path, configuration: configuration) { port, store, metrics in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let (connection, _) = try await agent.open(port: port)
            // Another connection holds the write lock, so nothing can commit and nothing is acked: the third
            // batch is then certainly one more than the window.
            let blocker = try await WriteLockHolder(path)
            let batches = try agent.chain(3)
            for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            try await eventually { metrics["window_exceeded"] == 1 }
            try await blocker.release()
            // What was accepted before the violation is still committed and acked, then the error comes.
            try await expectStored(connection, Array(batches.prefix(2)))
            let refusal = try await connection.receiveSkippingHeartbeats()
            #expect(errorCode(refusal) == .windowExceeded)
            // The ERROR names the batch that exceeded the window (PROTOCOL.md §7.4), not 0.
            if case .error(let error) = refusal { #expect(error.sequence == 3) }
            try await connection.waitClosed()
        }
    }
}

func handshakeOutcomes(_ path: String) async throws -> [String] {
    let store = try SQLiteStore(readOnlyPath: path)
    return try await store.handshakeOutcomes()
}

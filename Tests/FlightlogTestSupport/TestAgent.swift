public import Crypto
public import FlightlogWire
import Foundation
import NIOCore

/// An agent made of FlightlogWire alone: it builds real signed, chained batches of chosen events, and ships them to a
/// real server over loopback TCP (the protocol client of the tests).
public struct TestAgent: Sendable {
    public let key: Curve25519.Signing.PrivateKey
    public var name: String
    public var epoch: UInt64
    /// The agent's clock minus the aggregator's. A server measures it from HELLO; a fixture that stores batches
    /// without a server records it as the skew of the agent's handshake.
    public var clockOffsetNanos: Int64

    public init(
        name: String,
        epoch: UInt64 = 1,
        key: Curve25519.Signing.PrivateKey = Curve25519.Signing.PrivateKey(),
        clockOffsetNanos: Int64 = 0
    ) {
        self.key = key
        self.name = name
        self.epoch = epoch
        self.clockOffsetNanos = clockOffsetNanos
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

    // MARK: - Events and batches

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

    /// One event at `time` (UTC to the second, `2026-11-24T10:02:00Z`) with a raw line and parsed fields, as the
    /// agent's parser would produce them; read a millisecond later.
    public func event(
        _ time: String,
        _ line: String,
        _ fields: [(String, String)],
        source: String = "/var/log/app.log"
    ) throws -> Event {
        guard let date = ISO8601DateFormatter().date(from: time) else { throw TestFailure("not a UTC time: \(time)") }
        let nanos = Int64(date.timeIntervalSince1970) * 1_000_000_000
        return Event(
            timeNanos: nanos,
            observedNanos: nanos + 1_000_000,
            flags: .timeFromLine,
            host: self.name,
            source: source,
            line: Array(line.utf8),
            fields: fields.map { Event.Field($0.0, $0.1) }
        )
    }

    public func batch(
        sequence: UInt64,
        previous: Bytes32,
        events: [Event],
        epoch: UInt64? = nil,
        createdNanos: Int64 = 1_700_000_000_000_000_000
    ) throws -> SignedBatch {
        try SignedBatch.build(
            events: events,
            header: BatchHeader(
                keyID: self.keyID,
                epoch: epoch ?? self.epoch,
                sequence: sequence,
                previousHash: previous,
                createdNanos: createdNanos,
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

    /// A chain starting at sequence 1 with one batch per element of `batches`, each created when its last event was
    /// read.
    public func chain(_ batches: [[Event]]) throws -> [SignedBatch] {
        var previous = Bytes32.zero
        var chain: [SignedBatch] = []
        for (index, events) in batches.enumerated() {
            let batch = try self.batch(
                sequence: UInt64(index + 1),
                previous: previous,
                events: events,
                createdNanos: events.last?.observedNanos ?? 0
            )
            previous = batch.hash
            chain.append(batch)
        }
        return chain
    }

    // MARK: - Sessions over TCP

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

    /// Ships `batches` on a session of its own and waits until each is acknowledged as stored.
    public func ship(_ batches: [SignedBatch], port: Int) async throws {
        let (connection, _) = try await self.open(port: port)
        for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
        for batch in batches {
            guard case .ack(let ack) = try await connection.receiveSkippingHeartbeats(), ack.status == .stored else {
                await connection.close()
                throw TestFailure("expected a stored ACK for batch \(batch.sequence)")
            }
        }
        await connection.close()
    }
}

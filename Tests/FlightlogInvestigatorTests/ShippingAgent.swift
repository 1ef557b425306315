import Crypto
import FlightlogEvidence
import FlightlogTestSupport
import FlightlogWire
import Foundation
import NIOCore

@testable import FlightlogStore

/// An agent that ships chosen events as real signed, chained batches to the real server over loopback TCP.
struct ShippingAgent: Sendable {
    let key: Curve25519.Signing.PrivateKey
    let name: String
    let epoch: UInt64 = 1
    /// Agent clock minus real time, reported in HELLO (the server records it as the agent's skew).
    var clockOffsetNanos: Int64 = 0

    init(name: String, clockOffsetNanos: Int64 = 0) {
        self.key = Curve25519.Signing.PrivateKey()
        self.name = name
        self.clockOffsetNanos = clockOffsetNanos
    }

    var publicKey: Bytes32 { Bytes32(self.key.publicKey.rawRepresentation) ?? .zero }
    var publicKeyBase64: String { self.key.publicKey.rawRepresentation.base64EncodedString() }

    /// One event at `time` with a raw line and parsed fields, as the agent's parser would produce them.
    func event(
        _ time: String,
        _ line: String,
        _ fields: [(String, String)],
        source: String = "/var/log/app.log"
    ) throws -> Event {
        let nanos = try TimeExpression.parseInstant(time, now: 0)
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

    /// Builds the chain of batches (sequence 1…) and returns them; `skip` leaves sequence numbers out (a gap).
    func chain(_ batches: [[Event]]) throws -> [SignedBatch] {
        var previous = Bytes32.zero
        var out: [SignedBatch] = []
        for (index, events) in batches.enumerated() {
            let batch = try SignedBatch.build(
                events: events,
                header: BatchHeader(
                    keyID: KeyID.of(self.key.publicKey),
                    epoch: self.epoch,
                    sequence: UInt64(index + 1),
                    previousHash: previous,
                    createdNanos: events.last?.observedNanos ?? 0,
                    events: events
                ),
                signingKey: self.key
            )
            previous = batch.hash
            out.append(batch)
        }
        return out
    }

    /// Enrols, connects, ships `batches` (all of them, or those at `only`) and waits for every ack.
    func ship(_ batches: [SignedBatch], only: [Int]? = nil, port: Int, store: SQLiteStore) async throws {
        let connection = try await TestConnection.connect(port: port)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        try await connection.send(
            .hello(
                Hello(
                    publicKey: self.publicKey,
                    epoch: self.epoch,
                    agentTimeNanos: now + self.clockOffsetNanos,
                    agentName: self.name
                )
            )
        )
        guard case .challenge(let challenge) = try await connection.receive() else {
            throw TestFailure("expected CHALLENGE")
        }
        let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: self.publicKey, epoch: self.epoch)
        try await connection.send(.proof(Proof(signature: Array(try self.key.signature(for: message)))))
        guard case .welcome = try await connection.receive() else { throw TestFailure("expected WELCOME") }
        let selected = only.map { $0.map { batches[$0] } } ?? batches
        for batch in selected { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
        for _ in selected {
            guard case .ack(let ack) = try await connection.receiveSkippingHeartbeats(), ack.status == .stored else {
                throw TestFailure("expected a stored ACK")
            }
        }
        try await connection.send(.goodbye(Goodbye(message: "bye")))
        await connection.close()
    }
}

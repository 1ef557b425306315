import Crypto
import FlightlogAggregator
import FlightlogStore
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// ENROLL and ROTATE (protocol version 2, PROTOCOL.md §4.10–4.13) driven through the real session with extreme values
/// in each of their integer fields, as ``ExtremeValueSessionTests`` drives the frames of version 1: each is answered
/// as the spec says, and the server keeps serving. A trap ends the test process, so reaching the end is part of it.
@Suite("Extreme values in ENROLL and ROTATE, through the real session")
struct ExtremeValueEnrolmentTests {
    /// HELLO (version 2) for `key` at `epoch` and `clock`; returns the open connection and CHALLENGE's nonce.
    private func hello(
        _ port: Int,
        key: Curve25519.Signing.PrivateKey,
        epoch: UInt64,
        clock: Int64 = 0
    ) async throws -> (TestConnection, Bytes32) {
        let connection = try await TestConnection.connect(port: port)
        let publicKey = Bytes32(key.publicKey.rawRepresentation) ?? .zero
        try await connection.send(
            .hello(Hello(version: 2, publicKey: publicKey, epoch: epoch, agentTimeNanos: clock, agentName: "x"))
        )
        guard case .challenge(let challenge) = try await connection.receive() else {
            await connection.close()
            throw TestFailure("no CHALLENGE for epoch \(epoch), clock \(clock)")
        }
        return (connection, challenge.nonce)
    }

    /// The frames the server sends until WELCOME or the close.
    private func replies(_ connection: TestConnection) async throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try await connection.receiveSkippingHeartbeats() {
            frames.append(frame)
            if case .welcome = frame { break }
        }
        await connection.close()
        return frames
    }

    /// ENROLL written byte by byte: a token length byte that may disagree with the token that follows.
    private func enroll(lengthByte: UInt8, token: [UInt8], signature: [UInt8]) -> [UInt8] {
        var frame = RawFrame(FrameType.enroll.rawValue)
        frame.u8(lengthByte)
        frame.bytes(token)
        frame.bytes(signature)
        return frame.framed()
    }

    @Test func everyTokenLengthIsAnsweredAsSpecified() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            // (length byte, token bytes sent, expected): the token is printable and unknown, and signed properly,
            // so a length the frame can hold is looked up (badToken) and one it cannot is malformed. Two lookups
            // only: ten failures a minute from one address are rate-limited (§4.10).
            let cases: [(UInt8, Int, ErrorCode)] = [
                (0, 0, .malformedFrame), (1, 1, .badToken), (64, 64, .badToken), (65, 65, .malformedFrame),
                (255, 255, .malformedFrame), (10, 5, .malformedFrame), (5, 10, .malformedFrame),
                (255, 0, .malformedFrame),
            ]
            for (lengthByte, sent, expected) in cases {
                let key = Curve25519.Signing.PrivateKey()
                let (connection, nonce) = try await self.hello(port, key: key, epoch: 1)
                let token = String(repeating: "a", count: sent)
                let message = Handshake.enrolmentMessage(
                    nonce: nonce,
                    publicKey: Bytes32(key.publicKey.rawRepresentation) ?? .zero,
                    epoch: 1,
                    token: token
                )
                try await connection.sendRaw(
                    self.enroll(
                        lengthByte: lengthByte,
                        token: Array(token.utf8),
                        signature: Array(try key.signature(for: message))
                    )
                )
                let frames = try await self.replies(connection)
                #expect(errorCode(frames.first) == expected, "length byte \(lengthByte), \(sent) bytes: \(frames)")
            }
            // The server still enrols with a real token.
            let issued = try await store.issueToken(
                name: "ws-after",
                expiresNanos: .max,
                reenroll: false,
                who: "test",
                atNanos: nowNanos()
            )
            let key = Curve25519.Signing.PrivateKey()
            let frames = try await self.enrolWithToken(port, key: key, token: issued.token, epoch: 1, clock: 0)
            #expect(frames.first == .enrolled(Enrolled(agentName: "ws-after")), "\(frames)")
        }
    }

    /// HELLO, then ENROLL with `token` signed by `key`; the replies until WELCOME.
    private func enrolWithToken(
        _ port: Int,
        key: Curve25519.Signing.PrivateKey,
        token: String,
        epoch: UInt64,
        clock: Int64
    ) async throws -> [Frame] {
        let (connection, nonce) = try await self.hello(port, key: key, epoch: epoch, clock: clock)
        let publicKey = Bytes32(key.publicKey.rawRepresentation) ?? .zero
        let message = Handshake.enrolmentMessage(nonce: nonce, publicKey: publicKey, epoch: epoch, token: token)
        try await connection.send(.enroll(Enroll(token: token, signature: Array(try key.signature(for: message)))))
        return try await self.replies(connection)
    }

    @Test func everyEpochAndClockOfAnEnrollingHelloIsWelcomed() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, store, metrics in
            // Every epoch, each with a clock from the i64 extremes in turn (and every clock at least once).
            let count = max(Extreme.u64.count, Extreme.i64.count)
            for index in 0..<count {
                let epoch = Extreme.u64[index % Extreme.u64.count]
                let clock = Extreme.i64[index % Extreme.i64.count]
                let name = "ws-enrol-\(index)"
                let issued = try await store.issueToken(
                    name: name,
                    expiresNanos: .max,
                    reenroll: false,
                    who: "test",
                    atNanos: nowNanos()
                )
                let frames = try await self.enrolWithToken(
                    port,
                    key: Curve25519.Signing.PrivateKey(),
                    token: issued.token,
                    epoch: epoch,
                    clock: clock
                )
                #expect(frames.first == .enrolled(Enrolled(agentName: name)), "epoch \(epoch), clock \(clock)")
                guard case .welcome(let welcome) = frames.last else {
                    Issue.record("no WELCOME for epoch \(epoch), clock \(clock): \(frames)")
                    continue
                }
                #expect(welcome.epoch == epoch && welcome.lastSequence == 0)
            }
            #expect(metrics["enrolments"] == Int64(count))
        }
    }

    @Test func everyIntegerFieldOfRotateIsAnsweredAsSpecified() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            var agents = 0
            /// A freshly enrolled agent at `epoch` with no batch: its head is sequence 0 and the zero hash.
            func enrolled(epoch: UInt64) async throws -> TestAgent {
                agents += 1
                let agent = TestAgent(name: "ws-rotate-\(agents)", epoch: epoch)
                try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
                return agent
            }
            func rotate(_ agent: TestAgent, _ edit: (inout RotationRecord) -> Void) async throws -> [Frame] {
                let new = Curve25519.Signing.PrivateKey()
                var record = RotationRecord(
                    oldPublicKey: agent.publicKey,
                    oldEpoch: agent.epoch,
                    oldHeadSequence: 0,
                    oldHeadHash: .zero,
                    newPublicKey: Bytes32(new.publicKey.rawRepresentation) ?? .zero,
                    newEpoch: agent.epoch &+ 1,
                    timeNanos: 0
                )
                edit(&record)
                try record.sign(old: agent.key, new: new)
                let (connection, _) = try await self.hello(port, key: agent.key, epoch: agent.epoch)
                try await connection.send(.rotate(record))
                return try await self.replies(connection)
            }

            // Accepted: every old epoch (HELLO's), every new epoch other than it, every rotation time.
            let count = max(Extreme.u64.count, Extreme.i64.count)
            for index in 0..<count {
                let old = Extreme.u64[index % Extreme.u64.count]
                let new = Extreme.u64[(index + 3) % Extreme.u64.count]
                let time = Extreme.i64[index % Extreme.i64.count]
                let agent = try await enrolled(epoch: old)
                let frames = try await rotate(agent) {
                    $0.newEpoch = new
                    $0.timeNanos = time
                }
                let what = "old epoch \(old), new epoch \(new), time \(time)"
                guard case .rotated(let rotated) = frames.first, case .welcome(let welcome) = frames.last else {
                    Issue.record("\(what): \(frames)")
                    continue
                }
                #expect(rotated.newEpoch == new, "\(what)")
                #expect(welcome.epoch == new && welcome.lastSequence == 0, "\(what)")
            }
            let stored = try await store.rotations()
            #expect(stored.count == count)
            #expect(Set(stored.map(\.record.timeNanos)) == Set(Extreme.i64))

            // Refused: an old epoch that is not HELLO's, or an old head the aggregator does not hold.
            for value in Extreme.u64 {
                let agent = try await enrolled(epoch: 7)
                if value != 7 {
                    let frames = try await rotate(agent) { $0.oldEpoch = value }
                    #expect(errorCode(frames.first) == .rotationRefused, "old epoch \(value): \(frames)")
                }
                if value != 0 {
                    let frames = try await rotate(agent) { $0.oldHeadSequence = value }
                    #expect(errorCode(frames.first) == .rotationRefused, "old head sequence \(value): \(frames)")
                }
            }
            #expect(try await store.rotations().count == count, "a refused rotation stores nothing")

            // The server still serves a well-behaved agent.
            let agent = try await enrolled(epoch: 1)
            try await agent.ship(try agent.chain(1), port: port)
        }
    }
}

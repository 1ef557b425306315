import Crypto
import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import NIOCore
import Testing

@testable import FlightlogStore

/// ROTATE and ENROLL against the real session (PROTOCOL.md §4.10–4.13): every way a rotation can be wrong is
/// refused with `rotationRefused` and stores nothing; version-1 sessions know neither frame; verify finds a key
/// history or a record edited afterwards.
@Suite("Key rotation, refused and verified")
struct RotationTests {
    /// HELLO (version `version`), CHALLENGE, then `answer(challenge)`; returns the frames until the close.
    private func exchange(
        _ port: Int,
        agent: TestAgent,
        version: UInt16 = ProtocolVersion.current,
        answer: (Challenge) throws -> Frame
    ) async throws -> [Frame] {
        let connection = try await TestConnection.connect(port: port)
        try await connection.send(
            .hello(
                Hello(
                    version: version,
                    publicKey: agent.publicKey,
                    epoch: agent.epoch,
                    agentTimeNanos: 0,
                    agentName: "x"
                )
            )
        )
        guard case .challenge(let challenge) = try await connection.receive() else { throw TestFailure("no CHALLENGE") }
        try await connection.send(try answer(challenge))
        var frames: [Frame] = []
        while let frame = try await connection.receiveSkippingHeartbeats() {
            frames.append(frame)
            if case .welcome = frame { break }
        }
        await connection.close()
        return frames
    }

    private func record(
        _ agent: TestAgent,
        to new: Curve25519.Signing.PrivateKey,
        head: (UInt64, Bytes32),
        newEpoch: UInt64 = 99
    ) throws -> RotationRecord {
        var record = RotationRecord(
            oldPublicKey: agent.publicKey,
            oldEpoch: agent.epoch,
            oldHeadSequence: head.0,
            oldHeadHash: head.1,
            newPublicKey: Bytes32(new.publicKey.rawRepresentation) ?? .zero,
            newEpoch: newEpoch,
            timeNanos: 1
        )
        try record.sign(old: agent.key, new: new)
        return record
    }

    @Test func everyWrongRotationIsRefusedAndTheRightOneTakesEffect() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-rotate")
        let other = TestAgent(name: "ws-other")
        let chain = try agent.chain(2)
        try await withServer(database: dir.file("db.sqlite")) { port, store, metrics in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await store.enroll(name: other.name, publicKeyBase64: other.publicKeyBase64, atNanos: 1)
            try await agent.ship(chain, port: port)
            let head = (UInt64(2), chain[1].hash)
            let new = Curve25519.Signing.PrivateKey()
            var badSignature = try self.record(agent, to: new, head: head)
            badSignature.newSignature[0] ^= 1
            var otherKeyRecord = try self.record(agent, to: new, head: head)
            otherKeyRecord.newPublicKey = other.publicKey
            let wrong: [(String, RotationRecord, String)] = [
                ("the new key's signature", badSignature, "the new key's signature does not verify"),
                (
                    "an old head the aggregator does not hold",
                    try self.record(agent, to: new, head: (1, chain[0].hash)), "ship every batch"
                ),
                (
                    "a new key already enrolled", try self.record(agent, to: other.key, head: head),
                    "the new key is enrolled already"
                ),
                ("a record naming another key than it is signed by", otherKeyRecord, "signature does not verify"),
                (
                    "a new epoch that holds batches",
                    try self.record(agent, to: new, head: head, newEpoch: agent.epoch), "holds batches already"
                ),
            ]
            for (what, record, reason) in wrong {
                let frames = try await self.exchange(port, agent: agent) { _ in .rotate(record) }
                guard case .error(let error) = frames.first else {
                    Issue.record("\(what): \(frames)")
                    continue
                }
                #expect(error.code == .rotationRefused, "\(what)")
                #expect(error.message.contains(reason), "\(what): \(error.message)")
            }
            // Not the key of HELLO: the other agent sends ws-rotate's record.
            let foreign = try await self.exchange(port, agent: other) { _ in
                .rotate(try self.record(agent, to: new, head: head))
            }
            #expect(errorCode(foreign.first) == .rotationRefused)
            #expect(try await store.agent(publicKey: agent.publicKey) != nil, "nothing changed yet")

            let right = try self.record(agent, to: new, head: head)
            let frames = try await self.exchange(port, agent: agent) { _ in .rotate(right) }
            #expect(frames.first == .rotated(Rotated(newPublicKey: right.newPublicKey, newEpoch: 99)))
            guard case .welcome(let welcome) = frames.last else { throw TestFailure("no WELCOME: \(frames)") }
            #expect(welcome.epoch == 99 && welcome.lastSequence == 0)
            // The same record again (a lost answer): the same answer, nothing stored twice.
            #expect(
                try await self.exchange(port, agent: TestAgent(name: agent.name, epoch: agent.epoch, key: agent.key)) {
                    _ in .rotate(right)
                }.first
                    == .rotated(Rotated(newPublicKey: right.newPublicKey, newEpoch: 99))
            )
            #expect(try await store.rotations().count == 1)
            #expect(metrics["rotations_refused"] == 6)
            // The new key ships the new epoch; the first batch is no new_epoch finding.
            let rotatedAgent = TestAgent(name: agent.name, epoch: 99, key: new)
            try await rotatedAgent.ship(try rotatedAgent.chain(1), port: port)
        }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        #expect(try await store.findings().filter { $0.kind == .newEpoch }.isEmpty)
        try await store.drainFullTextIndex()
        let clean = try await store.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        #expect(clean.findings == [], "\(clean.findings)")

        // An insider edits the stored record, or adds a key to the history as if rotated.
        let queue = try DatabaseQueue(path: dir.file("db.sqlite"))
        try await queue.write { db in
            try db.execute(sql: "UPDATE rotations SET record = substr(record, 1, 200) || zeroblob(56)")
        }
        let edited = try await store.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        #expect(edited.kinds.contains(.rotationInvalid), "\(edited.findings)")
        let planted = Curve25519.Signing.PrivateKey().publicKey
        try await queue.write { db in
            try db.execute(
                sql:
                    "INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how) VALUES (1, ?, ?, 5, 6, 'rotated')",
                arguments: [planted.rawRepresentation, Data(KeyID.of(planted).bytes)]
            )
        }
        let report = try await store.verify(VerifyOptions(mode: .full, verifier: nil, nowNanos: nowNanos()))
        #expect(
            report.findings.contains {
                $0.kind == .rotationInvalid && $0.detail.contains("no signed record hands over to it")
            }
        )
    }

    @Test func versionOneSessionsKnowNeitherEnrollNorRotate() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-v1")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let enroll = try await self.exchange(port, agent: TestAgent(name: "new"), version: 1) { _ in
                .enroll(Enroll(token: "flt1_x", signature: [UInt8](repeating: 0, count: 64)))
            }
            #expect(errorCode(enroll.first) == .unexpectedFrame)
            let rotate = try await self.exchange(port, agent: agent, version: 1) { _ in
                .rotate(try self.record(agent, to: Curve25519.Signing.PrivateKey(), head: (0, .zero)))
            }
            #expect(errorCode(rotate.first) == .unexpectedFrame)
            // A version-1 agent is served as before.
            let proof = try await self.exchange(port, agent: agent, version: 1) { challenge in
                let message = Handshake.proofMessage(
                    nonce: challenge.nonce,
                    publicKey: agent.publicKey,
                    epoch: agent.epoch
                )
                return .proof(Proof(signature: Array(try agent.key.signature(for: message))))
            }
            guard case .welcome = proof.first else { throw TestFailure("no WELCOME for version 1: \(proof)") }
        }
    }

    @Test func anEnrolmentSignatureByAnotherKeyIsABadProofAndCountsAsAFailure() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path)
        let issued = try await store.issueToken(
            name: "ws-new",
            expiresNanos: .max,
            reenroll: false,
            who: "test",
            atNanos: 1
        )
        let agent = TestAgent(name: "ws-new")
        try await withServer(database: path, store: store) { port, store, metrics in
            let forged = try await self.exchange(port, agent: agent) { challenge in
                let message = Handshake.enrolmentMessage(
                    nonce: challenge.nonce,
                    publicKey: agent.publicKey,
                    epoch: agent.epoch,
                    token: issued.token
                )
                return .enroll(
                    Enroll(
                        token: issued.token,
                        signature: Array(try Curve25519.Signing.PrivateKey().signature(for: message))
                    )
                )
            }
            #expect(errorCode(forged.first) == .badProof)
            #expect(try await store.tokens().first?.usedNanos == nil, "the token is still unused")
            let genuine = try await self.exchange(port, agent: agent) { challenge in
                let message = Handshake.enrolmentMessage(
                    nonce: challenge.nonce,
                    publicKey: agent.publicKey,
                    epoch: agent.epoch,
                    token: issued.token
                )
                return .enroll(Enroll(token: issued.token, signature: Array(try agent.key.signature(for: message))))
            }
            #expect(genuine.first == .enrolled(Enrolled(agentName: "ws-new")))
            guard case .welcome = genuine.last else { throw TestFailure("no WELCOME after ENROLLED") }
            #expect(metrics["enrolments"] == 1)
        }
    }
}

import Crypto
import FlightlogTestSupport
import FlightlogWire
import Foundation
import NIOCore
import Testing

@testable import FlightlogAggregator
@testable import FlightlogStore

/// The aggregator's session state machine without sockets, clocks or a store: each event's actions are checked
/// against PROTOCOL.md §3, §4 and §7 (as nio-ssh's `SSHConnectionStateMachineTests` check theirs).
@Suite("SessionStateMachine: every transition, without sockets")
struct SessionStateMachineTests {
    typealias Machine = SessionStateMachine
    typealias Action = SessionStateMachine.Action

    // MARK: - Fixtures

    static let nonce = Bytes32([UInt8](repeating: 0xa5, count: 32)) ?? .zero
    static let peer = "192.0.2.7:50000"
    static let t0: Int64 = 1_795_683_600_000_000_000
    static let agent = TestAgent(
        name: "cc-ws-602",
        epoch: 0x0123_4567_89ab_cdef,
        key: (try? Curve25519.Signing.PrivateKey(rawRepresentation: Array(UInt8(0x00)...UInt8(0x1f))))
            ?? Curve25519.Signing.PrivateKey()
    )
    static let agentID: Int64 = 7

    /// The identity point, a key of small order: under it, R = identity and S = 0 verifies with RFC 8032 alone for
    /// every message (PROTOCOL.md §1.1).
    static let smallOrderKey = Bytes32([1] + [UInt8](repeating: 0, count: 31)) ?? .zero
    static let forgedSignature: [UInt8] = [1] + [UInt8](repeating: 0, count: 63)

    static func machine(window: UInt16 = 4) -> Machine {
        Machine(window: window, heartbeatIntervalSeconds: 15, peer: Self.peer, nonce: Self.nonce)
    }

    static func hello(version: UInt16 = ProtocolVersion.current, key: Bytes32 = Self.agent.publicKey) -> Frame {
        .hello(
            Hello(
                version: version,
                publicKey: key,
                epoch: Self.agent.epoch,
                agentTimeNanos: Self.t0 - 2_000_000,
                agentName: Self.agent.name
            )
        )
    }

    static func proof(signedBy key: Curve25519.Signing.PrivateKey = Self.agent.key) -> Frame {
        let message = Handshake.proofMessage(
            nonce: Self.nonce,
            publicKey: Self.agent.publicKey,
            epoch: Self.agent.epoch
        )
        return .proof(Proof(signature: Array((try? key.signature(for: message)) ?? Data())))
    }

    static func enroll(
        token: String = "flt1_token",
        signedBy key: Curve25519.Signing.PrivateKey = Self.agent.key
    ) -> Frame {
        let message = Handshake.enrolmentMessage(
            nonce: Self.nonce,
            publicKey: Self.agent.publicKey,
            epoch: Self.agent.epoch,
            token: token
        )
        return .enroll(Enroll(token: token, signature: Array((try? key.signature(for: message)) ?? Data())))
    }

    static let newKey =
        (try? Curve25519.Signing.PrivateKey(rawRepresentation: Array(UInt8(0x20)...UInt8(0x3f))))
        ?? Curve25519.Signing.PrivateKey()
    static let newEpoch: UInt64 = 99

    static func rotation(oldKey: Bytes32 = Self.agent.publicKey, oldEpoch: UInt64 = Self.agent.epoch) -> RotationRecord
    {
        RotationRecord(
            oldPublicKey: oldKey,
            oldEpoch: oldEpoch,
            oldHeadSequence: 0,
            oldHeadHash: .zero,
            newPublicKey: Bytes32(Self.newKey.publicKey.rawRepresentation) ?? .zero,
            newEpoch: Self.newEpoch,
            timeNanos: Self.t0,
            // The store checks the signatures (§4.12); the machine checks what HELLO said.
            oldSignature: [UInt8](repeating: 1, count: 64),
            newSignature: [UInt8](repeating: 2, count: 64)
        )
    }

    static func record(
        _ agent: TestAgent = Self.agent,
        key: Bytes32? = nil,
        revokedNanos: Int64? = nil
    ) -> AgentRecord {
        let key = key ?? agent.publicKey
        return AgentRecord(
            id: Self.agentID,
            name: agent.name,
            publicKey: key,
            keyID: KeyID.of(publicKeyBytes: key),
            enrolledNanos: 1,
            revokedNanos: revokedNanos
        )
    }

    static let batches: [SignedBatch] = (try? Self.agent.chain(6, eventsPerBatch: 2)) ?? []

    static func batchFrame(_ batch: SignedBatch) -> Frame { .batch(ByteBuffer(bytes: batch.bytes)) }

    /// One frame of each type, as an agent could send it to a session that has sent CHALLENGE with `nonce`.
    static func sample(_ type: FrameType) -> Frame {
        switch type {
        case .hello: Self.hello()
        case .challenge: .challenge(Challenge(nonce: .zero, aggregatorTimeNanos: 0))
        case .proof: Self.proof()
        case .welcome:
            .welcome(
                Welcome(
                    epoch: 1,
                    lastSequence: 0,
                    lastBatchHash: .zero,
                    window: 1,
                    heartbeatIntervalSeconds: 1,
                    aggregatorTimeNanos: 0
                )
            )
        case .batch: Self.batchFrame(Self.batches[0])
        case .ack: .ack(Ack(epoch: 1, sequence: 1, batchHash: .zero, status: .stored))
        case .heartbeat: .heartbeat(Heartbeat(timeNanos: 0))
        case .error: .error(ErrorMessage(code: .internalError, message: "agent failed"))
        case .goodbye: .goodbye(Goodbye(message: "agent stopping"))
        case .enroll: Self.enroll()
        case .enrolled: .enrolled(Enrolled(agentName: "x"))
        case .rotate: .rotate(Self.rotation())
        case .rotated: .rotated(Rotated(newPublicKey: .zero, newEpoch: 2))
        }
    }

    // MARK: - Driving

    /// A machine that has sent CHALLENGE for a HELLO of `version`.
    static func challenged(version: UInt16 = ProtocolVersion.current, window: UInt16 = 4) -> Machine {
        var machine = Self.machine(window: window)
        _ = machine.start()
        _ = machine.frameReceived(Self.hello(version: version), at: Self.t0)
        return machine
    }

    /// A machine that has sent WELCOME to `agent` (PROOF, enrolled, resume point `head`).
    static func welcomed(window: UInt16 = 4, head: ChainLink.Head? = nil) -> Machine {
        var machine = Self.challenged(window: window)
        _ = machine.frameReceived(Self.proof(), at: Self.t0)
        _ = machine.storeAnswered(.agent(Self.record()), at: Self.t0)
        _ = machine.storeAnswered(.chainHead(head), at: Self.t0)
        _ = machine.storeAnswered(.handshakeRecorded, at: Self.t0)
        return machine
    }

    /// Ships `batch` through its checks and the memory reservation; returns the committer's ticket.
    static func ship(_ batch: SignedBatch, _ machine: inout Machine, at now: Int64 = Self.t0) -> Int? {
        let reserve = machine.frameReceived(Self.batchFrame(batch), at: now)
        guard case .reserveMemory(let bytes)? = reserve.last else { return nil }
        let enqueue = machine.memoryReserved(true, at: now)
        for case .enqueue(let item, let held, let ticket) in enqueue {
            // The estimate reserved for decoding; the decoded batch keeps what it holds and gives back the rest.
            #expect(held == min(bytes, item.retainedBytes))
            let released = enqueue.compactMap { if case .releaseMemory(let bytes) = $0 { bytes } else { nil } }
            #expect(held + released.reduce(0, +) == bytes)
            #expect(item.batch.sequence == batch.sequence)
            return ticket
        }
        return nil
    }

    // MARK: - Each frame type in each reading state (§3 rule 7, §7.2 rule 6, §4.8)

    /// The phases in which the machine reads frames.
    enum Phase: String, CaseIterable, Sendable {
        case beforeHello, afterChallengeVersion1, afterChallengeVersion2, afterWelcome
    }

    /// What the machine does with a frame.
    enum Answer: Equatable, CustomStringConvertible {
        /// CHALLENGE, then the next frame is read.
        case challenge
        /// The store is asked this (by its case name).
        case ask(String)
        /// The enrolment limiter is asked first.
        case checkEnrolmentRate
        /// The batch passed its envelope checks and waits for memory.
        case reserveMemory
        /// Nothing but the next read.
        case continues
        /// Closed with nothing written.
        case silently
        /// GOODBYE, then closed.
        case goodbye
        /// This ERROR, then closed.
        case error(ErrorCode)

        var closes: Bool {
            switch self {
            case .silently, .goodbye, .error: true
            case .challenge, .ask, .checkEnrolmentRate, .reserveMemory, .continues: false
            }
        }

        var description: String {
            switch self {
            case .challenge: "CHALLENGE"
            case .ask(let what): "ask \(what)"
            case .checkEnrolmentRate: "check enrolment rate"
            case .reserveMemory: "reserve memory"
            case .continues: "read on"
            case .silently: "close silently"
            case .goodbye: "GOODBYE"
            case .error(let code): "ERROR \(code)"
            }
        }
    }

    /// The transition table: every frame type in every phase that reads.
    static let table: [Phase: [FrameType: Answer]] = [
        .beforeHello: [
            .hello: .challenge, .challenge: .error(.unexpectedFrame), .proof: .error(.unexpectedFrame),
            .welcome: .error(.unexpectedFrame), .batch: .error(.unexpectedFrame), .ack: .error(.unexpectedFrame),
            .heartbeat: .error(.unexpectedFrame), .error: .silently, .goodbye: .silently,
            .enroll: .error(.unexpectedFrame), .enrolled: .error(.unexpectedFrame), .rotate: .error(.unexpectedFrame),
            .rotated: .error(.unexpectedFrame),
        ],
        .afterChallengeVersion1: [
            .hello: .error(.unexpectedFrame), .challenge: .error(.unexpectedFrame), .proof: .ask("agent"),
            .welcome: .error(.unexpectedFrame), .batch: .error(.unexpectedFrame), .ack: .error(.unexpectedFrame),
            .heartbeat: .error(.unexpectedFrame), .error: .silently, .goodbye: .silently,
            // Version 1 has no ENROLL or ROTATE (§7.2 rule 3).
            .enroll: .error(.unexpectedFrame), .enrolled: .error(.unexpectedFrame), .rotate: .error(.unexpectedFrame),
            .rotated: .error(.unexpectedFrame),
        ],
        .afterChallengeVersion2: [
            .hello: .error(.unexpectedFrame), .challenge: .error(.unexpectedFrame), .proof: .ask("agent"),
            .welcome: .error(.unexpectedFrame), .batch: .error(.unexpectedFrame), .ack: .error(.unexpectedFrame),
            .heartbeat: .error(.unexpectedFrame), .error: .silently, .goodbye: .silently,
            .enroll: .checkEnrolmentRate, .enrolled: .error(.unexpectedFrame), .rotate: .ask("rotate"),
            .rotated: .error(.unexpectedFrame),
        ],
        .afterWelcome: [
            .hello: .error(.unexpectedFrame), .challenge: .error(.unexpectedFrame), .proof: .error(.unexpectedFrame),
            .welcome: .error(.unexpectedFrame), .batch: .reserveMemory, .ack: .error(.unexpectedFrame),
            .heartbeat: .continues, .error: .silently, .goodbye: .goodbye, .enroll: .error(.unexpectedFrame),
            .enrolled: .error(.unexpectedFrame), .rotate: .error(.unexpectedFrame), .rotated: .error(.unexpectedFrame),
        ],
    ]

    static func machine(in phase: Phase) -> Machine {
        switch phase {
        case .beforeHello:
            var machine = Self.machine()
            _ = machine.start()
            return machine
        case .afterChallengeVersion1: return Self.challenged(version: 1)
        case .afterChallengeVersion2: return Self.challenged(version: 2)
        case .afterWelcome: return Self.welcomed()
        }
    }

    static func answer(_ actions: [Action]) -> Answer? {
        for action in actions {
            switch action {
            case .close(.goodbye): return .goodbye
            case .close(.silently): return .silently
            case .close(.error(let error, _)): return error.code.map { .error($0) }
            case .send(.challenge): return .challenge
            case .ask(let request): return .ask(Self.name(request))
            case .checkEnrolmentRate: return .checkEnrolmentRate
            case .reserveMemory: return .reserveMemory
            default: continue
            }
        }
        return actions.contains { if case .readFrame = $0 { true } else { false } } ? .continues : nil
    }

    static func name(_ request: Machine.StoreRequest) -> String {
        switch request {
        case .agent: "agent"
        case .keyHolder: "keyHolder"
        case .redeem: "redeem"
        case .rotate: "rotate"
        case .chainHead: "chainHead"
        case .recordHandshake: "recordHandshake"
        }
    }

    @Test("the table names every frame type in every phase", arguments: Phase.allCases)
    func tableIsComplete(_ phase: Phase) {
        #expect(Set(Self.table[phase]?.keys.map { $0 } ?? []) == Set(FrameType.allCases))
    }

    @Test("each frame type in each phase is answered as the table says", arguments: Phase.allCases, FrameType.allCases)
    func frameInPhase(_ phase: Phase, _ type: FrameType) throws {
        var machine = Self.machine(in: phase)
        let actions = machine.frameReceived(Self.sample(type), at: Self.t0 + 1)
        let expected = try #require(Self.table[phase]?[type])
        #expect(Self.answer(actions) == expected, "\(type) \(phase): \(actions)")
        // Whatever closes, closes for good: the machine answers nothing more.
        if expected.closes {
            #expect(machine.isClosed)
            #expect(machine.frameReceived(Self.sample(.heartbeat), at: Self.t0 + 2).isEmpty)
        }
    }

    @Test("an unexpected frame before WELCOME is refused with sequence 0 and says what was expected")
    func unexpectedBeforeWelcomeSaysWhatWasExpected() {
        var fresh = Self.machine()
        _ = fresh.start()
        #expect(
            fresh.frameReceived(Self.sample(.proof), at: Self.t0).closing
                == .error(ErrorMessage(code: .unexpectedFrame, message: "expected HELLO"), reason: "no HELLO")
        )
        var challenged = Self.challenged(version: 1)
        #expect(
            challenged.frameReceived(Self.sample(.enroll), at: Self.t0).closing
                == .error(ErrorMessage(code: .unexpectedFrame, message: "expected PROOF"), reason: "no PROOF")
        )
    }

    // MARK: - Frames that do not decode (§3 rules 7–8)

    @Test(
        "a frame that does not decode gets its decoding code in every phase",
        arguments: Phase.allCases,
        [
            (WireError.frameTooLarge(length: 1038, limit: 1037), ErrorCode.frameTooLarge),
            (.invalidValue(what: "frame length", value: 0), .malformedFrame),
            (.unknownFrameType(0x7f), .malformedFrame),
            (.truncated(what: "HELLO"), .malformedFrame),
            (.trailingBytes(what: "PROOF", count: 1), .malformedFrame),
            (.invalidUTF8(what: "GOODBYE message"), .malformedFrame),
            (.lengthExceedsLimit(what: "frame", length: 2, limit: 1), .malformedFrame),
            (.badMagic(what: "HELLO"), .badMagic),
            (.unsupportedVersion(what: "HELLO", version: 0), .unsupportedVersion),
        ]
    )
    func undecodableFrame(_ phase: Phase, _ failure: (WireError, ErrorCode)) {
        var machine = Self.machine(in: phase)
        let actions = machine.frameUndecodable(failure.0, at: Self.t0)
        #expect(actions.closing?.errorCode == failure.1)
        #expect(actions.closing?.errorSequence == 0)
        #expect(actions.counts == ["frames_rejected.\(failure.1)": 1])
        #expect(machine.isClosed)
    }

    @Test("the agent closing at a frame boundary: silently before WELCOME, GOODBYE after", arguments: Phase.allCases)
    func peerClosed(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        let actions = machine.peerClosed(at: Self.t0)
        switch phase {
        case .beforeHello: #expect(actions.closing == .silently(reason: "closed before HELLO"))
        case .afterChallengeVersion1, .afterChallengeVersion2:
            #expect(actions.closing == .silently(reason: "closed before PROOF"))
        case .afterWelcome:
            #expect(actions.steps == [.touch(Self.t0), .close(.goodbye)])
        }
    }

    // MARK: - Handshake

    @Test(
        "the selected version is min(HELLO's, ours) and the CHALLENGE carries the nonce and the clock",
        arguments: [(UInt16(1), UInt16(1)), (2, 2), (3, 2), (.max, 2)]
    )
    func versionNegotiation(_ offered: UInt16, _ selected: UInt16) {
        var machine = Self.machine()
        #expect(machine.start().steps == [.read])
        let actions = machine.frameReceived(Self.hello(version: offered), at: Self.t0)
        #expect(
            actions.steps == [
                .send(.challenge(Challenge(version: selected, nonce: Self.nonce, aggregatorTimeNanos: Self.t0))), .read,
            ]
        )
    }

    @Test("PROOF, enrolled key: the resume point is looked up, the handshake recorded, then WELCOME")
    func handshakeSucceeds() throws {
        var machine = Self.challenged()
        #expect(machine.frameReceived(Self.proof(), at: Self.t0 + 1).steps == [.ask(.agent(Self.agent.publicKey))])
        #expect(
            machine.storeAnswered(.agent(Self.record()), at: Self.t0 + 2).steps == [
                .ask(.chainHead(agentID: Self.agentID, epoch: Self.agent.epoch))
            ]
        )
        let head = ChainLink.Head(sequence: 41, hash: Self.batches[0].hash)
        let recording = machine.storeAnswered(.chainHead(head), at: Self.t0 + 3)
        guard case .ask(.recordHandshake(let record))? = recording.first, recording.count == 1 else {
            Issue.record("expected the handshake to be recorded: \(recording)")
            return
        }
        #expect(record.outcome == "accepted")
        #expect(record.agentID == Self.agentID)
        #expect(record.epoch == Self.agent.epoch)
        #expect(record.atNanos == Self.t0)
        #expect(record.skewNanos == -2_000_000)
        #expect(record.peer == Self.peer)
        let welcome = machine.storeAnswered(.handshakeRecorded, at: Self.t0 + 4)
        // The agent's session is claimed (an older one closed) before WELCOME.
        #expect(
            welcome.steps.filter(\.isProtocol) == [
                .claim(agentID: Self.agentID),
                .send(
                    .welcome(
                        Welcome(
                            epoch: Self.agent.epoch,
                            lastSequence: 41,
                            lastBatchHash: Self.batches[0].hash,
                            window: 4,
                            heartbeatIntervalSeconds: 15,
                            aggregatorTimeNanos: Self.t0 + 4
                        )
                    )
                ),
                .read,
            ]
        )
        #expect(welcome.counts == ["handshakes_accepted": 1])
        #expect(machine.isStreaming)
    }

    @Test(
        "an agent's clock anywhere in i64 is recorded as a skew, saturated, never a trap (§7.2 rule 7)",
        arguments: [(Int64.min, 1, Int64.min), (Int64.max, -1, Int64.max), (Self.t0 - 5, Self.t0, -5)]
            as [(Int64, Int64, Int64)]
    )
    func skew(_ agentClock: Int64, _ now: Int64, _ skew: Int64) {
        var machine = Self.machine()
        _ = machine.start()
        let hello = Hello(publicKey: Self.agent.publicKey, epoch: 1, agentTimeNanos: agentClock, agentName: "x")
        #expect(machine.frameReceived(.hello(hello), at: now).sent.count == 1)
        // Refused (the proof is another key's), and recorded with the skew.
        let refused = machine.frameReceived(Self.proof(signedBy: Curve25519.Signing.PrivateKey()), at: now + 1)
        #expect(refused.handshakeNotes.map(\.skewNanos) == [skew])
    }

    /// Every reason a handshake is refused, with the code, the counter and the record it leaves.
    enum Refusal: String, CaseIterable, Sendable {
        case proofByAnotherKey, smallOrderKeyWithForgedProof, unknownKey, replacedKey, keyHistoryUnreadable,
            revokedKey, enrolledKeyNotAccepted, agentLookupFails, headLookupFails, recordingFails
    }

    @Test("each refusal cause is answered with its code, counted and recorded", arguments: Refusal.allCases)
    func refusal(_ cause: Refusal) {
        var machine = Self.challenged()
        var actions: [Action]
        let proof = Self.proof()
        switch cause {
        case .proofByAnotherKey:
            actions = machine.frameReceived(Self.proof(signedBy: Curve25519.Signing.PrivateKey()), at: Self.t0)
        case .smallOrderKeyWithForgedProof:
            machine = Self.machine()
            _ = machine.start()
            _ = machine.frameReceived(Self.hello(key: Self.smallOrderKey), at: Self.t0)
            actions = machine.frameReceived(.proof(Proof(signature: Self.forgedSignature)), at: Self.t0)
            // The forgery holds for RFC 8032 alone: only the key check of §1.1 refuses it.
            let message = Handshake.proofMessage(
                nonce: Self.nonce,
                publicKey: Self.smallOrderKey,
                epoch: Self.agent.epoch
            )
            let plain = try? Curve25519.Signing.PublicKey(rawRepresentation: Self.smallOrderKey.bytes)
            #expect(plain?.isValidSignature(Self.forgedSignature, for: message) == true)
        case .unknownKey:
            _ = machine.frameReceived(proof, at: Self.t0)
            #expect(
                machine.storeAnswered(.agent(nil), at: Self.t0).steps == [.ask(.keyHolder(Self.agent.publicKey))]
            )
            actions = machine.storeAnswered(.keyHolder(nil), at: Self.t0)
        case .replacedKey:
            _ = machine.frameReceived(proof, at: Self.t0)
            _ = machine.storeAnswered(.agent(nil), at: Self.t0)
            actions = machine.storeAnswered(.keyHolder((name: "cc-ws-601", untilNanos: Self.t0 - 1)), at: Self.t0)
        case .keyHistoryUnreadable:
            _ = machine.frameReceived(proof, at: Self.t0)
            _ = machine.storeAnswered(.agent(nil), at: Self.t0)
            actions = machine.storeFailed("disk I/O error")
        case .revokedKey:
            _ = machine.frameReceived(proof, at: Self.t0)
            actions = machine.storeAnswered(.agent(Self.record(revokedNanos: 5)), at: Self.t0)
        case .enrolledKeyNotAccepted:
            _ = machine.frameReceived(proof, at: Self.t0)
            actions = machine.storeAnswered(.agent(Self.record(key: Self.smallOrderKey)), at: Self.t0)
        case .agentLookupFails:
            _ = machine.frameReceived(proof, at: Self.t0)
            actions = machine.storeFailed("database is locked")
        case .headLookupFails:
            _ = machine.frameReceived(proof, at: Self.t0)
            _ = machine.storeAnswered(.agent(Self.record()), at: Self.t0)
            actions = machine.storeFailed("database is locked")
        case .recordingFails:
            _ = machine.frameReceived(proof, at: Self.t0)
            _ = machine.storeAnswered(.agent(Self.record()), at: Self.t0)
            _ = machine.storeAnswered(.chainHead(nil), at: Self.t0)
            actions = machine.storeFailed("database is locked")
        }
        let expected: ErrorCode =
            switch cause {
            case .proofByAnotherKey, .smallOrderKeyWithForgedProof, .enrolledKeyNotAccepted: .badProof
            case .unknownKey, .keyHistoryUnreadable: .unknownAgent
            case .replacedKey, .revokedKey: .revokedAgent
            case .agentLookupFails, .headLookupFails, .recordingFails: .storageFailure
            }
        #expect(actions.closing?.errorCode == expected, "\(actions)")
        #expect(machine.isClosed)
        #expect(!actions.steps.contains { if case .send(.welcome) = $0 { true } else { false } })
        if expected == .storageFailure {
            // The store is down: nothing to record it in, and the message says only that.
            #expect(actions.closing?.errorMessage == "store unavailable")
            #expect(actions.handshakeNotes.isEmpty)
            #expect(actions.counts.isEmpty)
        } else {
            #expect(actions.counts == ["handshakes_rejected.\(expected)": 1])
            #expect(actions.handshakeNotes.map(\.outcome) == ["\(expected)"])
        }
        switch cause {
        case .replacedKey:
            #expect(actions.closing?.errorMessage?.hasPrefix("this key was cc-ws-601's until ") == true)
        case .revokedKey:
            // The agent is known by then: the record names it.
            #expect(actions.handshakeNotes.map(\.agentID) == [Self.agentID])
        case .enrolledKeyNotAccepted:
            #expect(actions.handshakeNotes.map(\.agentID) == [nil])
            #expect(actions.closing?.errorMessage == "the enrolled key is not a key Flightlog accepts")
        case .proofByAnotherKey, .smallOrderKeyWithForgedProof:
            #expect(actions.closing?.errorMessage == "the proof signature does not verify")
        case .unknownKey, .keyHistoryUnreadable, .agentLookupFails, .headLookupFails, .recordingFails:
            break
        }
    }

    @Test("a refused proof never reaches the store: only the key's holder learns its enrolment status (§7.2 rule 4)")
    func proofBeforeEnrolment() {
        var machine = Self.challenged()
        let actions = machine.frameReceived(Self.proof(signedBy: Curve25519.Signing.PrivateKey()), at: Self.t0)
        #expect(!actions.steps.contains { if case .ask = $0 { true } else { false } })
        #expect(actions.closing?.errorCode == .badProof)
    }

    // MARK: - Enrolment (§4.10)

    enum EnrolmentCase: String, CaseIterable, Sendable {
        case rateLimited, signatureByAnotherKey, unknownToken, expired, used, revoked, nameTaken, keyEnrolled, badKey,
            storeFails, enrolled
    }

    @Test("each enrolment exchange is answered as §4.10 says", arguments: EnrolmentCase.allCases)
    func enrolment(_ exchange: EnrolmentCase) {
        var machine = Self.challenged()
        let signer =
            exchange == .signatureByAnotherKey ? Curve25519.Signing.PrivateKey() : Self.agent.key
        #expect(
            machine.frameReceived(Self.enroll(signedBy: signer), at: Self.t0 + 5).steps == [
                .checkEnrolmentRate(Self.t0 + 5)
            ]
        )
        let checked = machine.enrolmentRateChecked(allowed: exchange != .rateLimited)
        if exchange == .rateLimited {
            // Answered without looking at the token or the signature.
            #expect(checked.closing?.errorCode == .rateLimited)
            #expect(checked.counts == ["enrolment_rate_limited": 1])
            #expect(checked.handshakeNotes.map(\.outcome) == ["rateLimited"])
            #expect(!checked.steps.contains(.failedEnrolment(Self.t0 + 5)))
            return
        }
        if exchange == .signatureByAnotherKey {
            #expect(checked.closing?.errorCode == .badProof)
            #expect(checked.counts == ["enrolments_refused.badProof": 1])
            #expect(checked.steps.contains(.failedEnrolment(Self.t0 + 5)))
            return
        }
        #expect(checked.steps == [.ask(.redeem(token: "flt1_token", atNanos: Self.t0 + 5))])
        let refusal: (EnrolmentRefusal, String)? =
            switch exchange {
            case .unknownToken: (.unknownToken, "unknown")
            case .expired: (.expired(atNanos: 1), "expired")
            case .used: (.used(atNanos: 1), "used")
            case .revoked: (.revoked(atNanos: 1), "revoked")
            case .nameTaken: (.nameTaken("cc-ws-602"), "name_taken")
            case .keyEnrolled: (.keyEnrolled(name: "cc-ws-602"), "key_enrolled")
            case .badKey: (.badKey("small order"), "bad_key")
            case .rateLimited, .signatureByAnotherKey, .storeFails, .enrolled: nil
            }
        if let (refusal, counter) = refusal {
            let refused = machine.storeAnswered(.redeemed(.failure(refusal)), at: Self.t0 + 6)
            #expect(refused.closing?.errorCode == .badToken)
            #expect(refused.closing?.errorMessage == "\(refusal)")
            #expect(refused.counts == ["enrolments_refused.\(counter)": 1])
            #expect(refused.steps.contains(.failedEnrolment(Self.t0 + 5)))
            #expect(refused.handshakeNotes.map(\.outcome) == ["badToken"])
            return
        }
        if exchange == .storeFails {
            #expect(machine.storeFailed("database is locked").closing?.errorCode == .storageFailure)
            return
        }
        let enrolled = machine.storeAnswered(.redeemed(.success(Self.record())), at: Self.t0 + 6)
        #expect(
            enrolled.steps.filter(\.isProtocol) == [
                .send(.enrolled(Enrolled(agentName: Self.agent.name))),
                .ask(.chainHead(agentID: Self.agentID, epoch: Self.agent.epoch)),
            ]
        )
        #expect(enrolled.counts == ["enrolments": 1])
        _ = machine.storeAnswered(.chainHead(nil), at: Self.t0 + 7)
        let welcome = machine.storeAnswered(.handshakeRecorded, at: Self.t0 + 8)
        #expect(welcome.sent.first.map { if case .welcome(let w) = $0 { w.epoch } else { 0 } } == Self.agent.epoch)
    }

    // MARK: - Rotation (§4.12)

    enum RotationCase: String, CaseIterable, Sendable {
        case namesAnotherKey, namesAnotherEpoch, storeRefuses, storeFails, rotated
    }

    @Test("each rotation exchange is answered as §4.12 says", arguments: RotationCase.allCases)
    func rotation(_ exchange: RotationCase) throws {
        var machine = Self.challenged()
        let record: RotationRecord =
            switch exchange {
            case .namesAnotherKey: Self.rotation(oldKey: Bytes32(Self.newKey.publicKey.rawRepresentation) ?? .zero)
            case .namesAnotherEpoch: Self.rotation(oldEpoch: 1)
            case .storeRefuses, .storeFails, .rotated: Self.rotation()
            }
        let sent = machine.frameReceived(.rotate(record), at: Self.t0 + 9)
        if exchange == .namesAnotherKey || exchange == .namesAnotherEpoch {
            // Refused before the store is asked.
            #expect(sent.closing?.errorCode == .rotationRefused)
            #expect(sent.closing?.errorMessage == "the rotation must name the key and epoch of HELLO")
            #expect(sent.counts == ["rotations_refused": 1])
            #expect(sent.handshakeNotes.map(\.outcome) == ["rotationRefused"])
            return
        }
        #expect(sent.steps == [.ask(.rotate(record, atNanos: Self.t0 + 9))])
        switch exchange {
        case .storeRefuses:
            let refused = machine.storeAnswered(
                .rotated(.failure(RotationRefusal(reason: "the old head is not the head held"))),
                at: Self.t0
            )
            #expect(refused.closing?.errorCode == .rotationRefused)
            #expect(refused.closing?.errorMessage == "the old head is not the head held")
        case .storeFails:
            #expect(machine.storeFailed("database is locked").closing?.errorCode == .storageFailure)
        case .rotated, .namesAnotherKey, .namesAnotherEpoch:
            let newKey = Bytes32(Self.newKey.publicKey.rawRepresentation) ?? .zero
            let rotated = machine.storeAnswered(
                .rotated(.success(Self.record(key: newKey))),
                at: Self.t0 + 10
            )
            #expect(
                rotated.steps.filter(\.isProtocol) == [
                    .send(.rotated(Rotated(newPublicKey: newKey, newEpoch: Self.newEpoch))),
                    .ask(.chainHead(agentID: Self.agentID, epoch: Self.newEpoch)),
                ]
            )
            #expect(rotated.counts == ["rotations": 1])
            let recording = machine.storeAnswered(.chainHead(nil), at: Self.t0 + 11)
            guard case .ask(.recordHandshake(let handshake))? = recording.first else {
                Issue.record("expected the handshake to be recorded")
                return
            }
            #expect(handshake.publicKey == newKey)
            #expect(handshake.epoch == Self.newEpoch)
            let welcome = machine.storeAnswered(.handshakeRecorded, at: Self.t0 + 12)
            #expect(welcome.sent.first.map { if case .welcome(let w) = $0 { w.epoch } else { 0 } } == Self.newEpoch)
            // The session goes on under the new key: its batches pass, the old key's are another key's.
            let successor = TestAgent(name: Self.agent.name, epoch: Self.newEpoch, key: Self.newKey)
            let next = try successor.batch(sequence: 1, previous: .zero, events: successor.events(1, prefix: "r"))
            #expect(Self.ship(next, &machine) != nil)
            _ = machine.commitFinished(ticket: 0, .success(.stored), at: Self.t0)
            let old = machine.frameReceived(Self.batchFrame(Self.batches[0]), at: Self.t0)
            #expect(old.closing?.errorCode == .keyMismatch)
        }
    }

    // MARK: - Batches, window and acks (§7.4, §7.5)

    @Test("a batch is checked, waits for memory, is decoded and handed to the committer; its ACK follows the commit")
    func batchIsStoredAndAcked() throws {
        var machine = Self.welcomed()
        let batch = Self.batches[0]
        let arrived = machine.frameReceived(Self.batchFrame(batch), at: Self.t0)
        let bytes = GroupCommitter.estimatedBytes(batch)
        #expect(arrived.steps == [.count("bytes_received", Int64(batch.bytes.count)), .reserve(bytes)])
        // Nothing is read while the batch waits for memory: TCP pushes back on the agent.
        #expect(!arrived.steps.contains(.read))
        let queued = machine.memoryReserved(true, at: Self.t0 + 1)
        // Decoded, the batch keeps the memory it really holds in the commit queue and gives back the rest.
        let held = queued.compactMap { if case .enqueue(let item, _, _) = $0 { item.retainedBytes } else { nil } }.first
        #expect(held.map { $0 < bytes } == true)
        #expect(
            queued.steps == [
                .release(bytes - (held ?? 0)), .count("batches_decoded", 1),
                .enqueue(sequence: 1, bytes: held ?? 0, ticket: 0), .read,
            ]
        )
        for case .enqueue(let item, _, _) in queued {
            #expect(item.agentID == Self.agentID)
            #expect(item.receivedNanos == Self.t0 + 1)
        }
        let acked = machine.commitFinished(ticket: 0, .success(.stored), at: Self.t0 + 2)
        #expect(
            acked.steps == [
                .send(.ack(Ack(epoch: batch.epoch, sequence: 1, batchHash: batch.hash, status: .stored))),
                .count("batches_stored", 1), .count("events_stored", 2),
            ]
        )
    }

    @Test("a resent batch already stored is acknowledged `duplicate`")
    func duplicate() {
        var machine = Self.welcomed()
        let ticket = Self.ship(Self.batches[0], &machine)
        let acked = machine.commitFinished(ticket: ticket ?? -1, .success(.duplicate), at: Self.t0)
        #expect(
            acked.steps == [
                .send(
                    .ack(
                        Ack(
                            epoch: Self.agent.epoch,
                            sequence: 1,
                            batchHash: Self.batches[0].hash,
                            status: .duplicate
                        )
                    )
                ),
                .count("batches_duplicate", 1),
            ]
        )
    }

    /// Every order in which the commits of three batches can finish.
    static let arrivalOrders: [[Int]] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]

    @Test(
        "ACKs go out in the order the batches arrived, whatever order their commits finish in",
        arguments: arrivalOrders
    )
    func ackOrder(_ order: [Int]) {
        var machine = Self.welcomed()
        let tickets = Self.batches.prefix(3).compactMap { Self.ship($0, &machine) }
        #expect(tickets == [0, 1, 2])
        var acked: [UInt64] = []
        var finished: Set<Int> = []
        for index in order {
            finished.insert(index)
            let actions = machine.commitFinished(ticket: tickets[index], .success(.stored), at: Self.t0)
            acked += actions.ackedSequences
            // An ACK is due exactly when every batch before it has finished: none is held back, none jumps ahead.
            let due = (0..<3).prefix { finished.contains($0) }.count
            #expect(acked == Array(1...3).prefix(due).map(UInt64.init), "after \(order.prefix(finished.count))")
        }
        #expect(acked == [1, 2, 3])
    }

    @Test("one batch past the window is windowExceeded, naming it, after the ACKs already due")
    func windowExceeded() {
        var machine = Self.welcomed(window: 2)
        #expect(Self.ship(Self.batches[0], &machine) == 0)
        #expect(Self.ship(Self.batches[1], &machine) == 1)
        let third = machine.frameReceived(Self.batchFrame(Self.batches[2]), at: Self.t0 + 5)
        // Nothing is closed yet: the two batches already with the committer are acknowledged first.
        #expect(third.counts == ["bytes_received": Int64(Self.batches[2].bytes.count), "window_exceeded": 1])
        #expect(third.closing == nil)
        #expect(!third.steps.contains(.read))
        #expect(machine.commitFinished(ticket: 1, .success(.stored), at: Self.t0 + 6).sent.isEmpty)
        let last = machine.commitFinished(ticket: 0, .success(.stored), at: Self.t0 + 7)
        #expect(last.ackedSequences == [1, 2])
        #expect(last.steps.suffix(2).first == .touch(Self.t0 + 7))
        #expect(last.closing?.errorCode == .windowExceeded)
        #expect(last.closing?.errorSequence == 3)
        #expect(last.closing?.errorMessage == "more than 2 batches unacknowledged")
        #expect(machine.isClosed)
    }

    @Test("an acknowledged batch frees its place in the window")
    func windowSlides() {
        var machine = Self.welcomed(window: 1)
        for (index, batch) in Self.batches.prefix(4).enumerated() {
            let ticket = Self.ship(batch, &machine)
            #expect(ticket == index)
            _ = machine.commitFinished(ticket: ticket ?? -1, .success(.stored), at: Self.t0)
        }
        #expect(machine.isStreaming)
    }

    /// A batch refused before the store, each with its code and the sequence the ERROR names (§7.5).
    enum Defect: String, CaseIterable, Sendable {
        case garbage, anotherAgentsKey, wrongEpoch, badSignature, timeRangeDisagrees
    }

    @Test(
        "each batch that fails its checks is refused with its code, its sequence and a finding",
        arguments: Defect.allCases
    )
    func rejectedBatch(_ defect: Defect) throws {
        var machine = Self.welcomed()
        let good = Self.batches[1]
        let body: [UInt8]
        let expected: (ErrorCode, UInt64)
        switch defect {
        case .garbage:
            body = [1, 2, 3, 4, 5]
            expected = (.malformedBatch, 0)
        case .anotherAgentsKey:
            body = try TestAgent(name: "other").chain(1)[0].bytes
            expected = (.keyMismatch, 1)
        case .wrongEpoch:
            body = try Self.agent.batch(
                sequence: 3,
                previous: .zero,
                events: Self.agent.events(1, prefix: "e"),
                epoch: 5
            )
            .bytes
            expected = (.wrongEpoch, 3)
        case .badSignature:
            var bytes = good.bytes
            bytes[bytes.count - 1] ^= 1
            body = bytes
            expected = (.badSignature, 2)
        case .timeRangeDisagrees:
            // Signed, so it passes every check before the payload, and is refused once decoded (§5 step 7).
            let event = Self.agent.events(1, prefix: "t")[0]
            body = try RawBatch(
                epoch: Self.agent.epoch,
                sequence: 4,
                firstNanos: event.timeNanos - 1,
                events: [event]
            ).envelope(signedBy: Self.agent.key)
            expected = (.malformedBatch, 4)
        }
        var actions = machine.frameReceived(.batch(ByteBuffer(bytes: body)), at: Self.t0 + 3)
        if defect == .timeRangeDisagrees {
            guard case .reserveMemory(let bytes)? = actions.last else {
                Issue.record("a signed batch waits for memory before it is decoded: \(actions)")
                return
            }
            actions = machine.memoryReserved(true, at: Self.t0 + 3)
            #expect(actions.steps.first == .release(bytes))
        }
        #expect(actions.closing?.errorCode == expected.0)
        #expect(actions.closing?.errorSequence == expected.1)
        #expect(actions.counts["batches_rejected.\(expected.0)"] == 1)
        #expect(actions.findings == [.init(kind: .rejectedBatch, sequence: expected.1, atNanos: Self.t0 + 3)])
        #expect(actions.steps.contains(.touch(Self.t0 + 3)))
        #expect(machine.isClosed)
    }

    enum CommitEnding: String, CaseIterable, Sendable {
        case equivocation, chainBroken, revoked, storageFailure
    }

    @Test(
        "a commit refused or failed ends the session at once, after the ACKs before it and without the ones after",
        arguments: CommitEnding.allCases
    )
    func commitEnds(_ ending: CommitEnding) {
        var machine = Self.welcomed()
        let tickets = Self.batches.prefix(3).compactMap { Self.ship($0, &machine) }
        let outcome: Result<IngestOutcome, AggregatorError>
        let expected: ErrorCode
        switch ending {
        case .equivocation:
            outcome = .success(.refused(.equivocation, "sequence 2 is stored with another hash"))
            expected = .equivocation
        case .chainBroken:
            outcome = .success(.refused(.chainBroken, "previous hash is not the head's"))
            expected = .chainBroken
        case .revoked:
            outcome = .success(.refused(.revokedAgent, "revoked"))
            expected = .revokedAgent
        case .storageFailure:
            outcome = .failure(.storage("disk full"))
            expected = .storageFailure
        }
        // The third finishes first; the second is the one refused; the first finishes last.
        #expect(machine.commitFinished(ticket: tickets[2], .success(.stored), at: Self.t0).isEmpty)
        #expect(machine.commitFinished(ticket: tickets[1], outcome, at: Self.t0).isEmpty)
        let actions = machine.commitFinished(ticket: tickets[0], .success(.stored), at: Self.t0)
        #expect(actions.ackedSequences == [1])
        #expect(actions.closing?.errorCode == expected)
        #expect(actions.closing?.errorSequence == 2)
        if ending == .storageFailure {
            #expect(actions.closing?.errorMessage == "not stored, resend later")
        } else {
            #expect(actions.counts["batches_rejected.\(expected)"] == 1)
        }
        // Cut off at once: no last-seen write, no further event answered.
        #expect(!actions.steps.contains { if case .touch = $0 { true } else { false } })
        #expect(machine.isClosed)
        #expect(machine.commitFinished(ticket: tickets[2], .success(.stored), at: Self.t0).isEmpty)
    }

    @Test("a commit finishing while the next batch waits for memory is acknowledged at once")
    func ackWhileWaitingForMemory() {
        var machine = Self.welcomed()
        let ticket = Self.ship(Self.batches[0], &machine)
        _ = machine.frameReceived(Self.batchFrame(Self.batches[1]), at: Self.t0)
        let acked = machine.commitFinished(ticket: ticket ?? -1, .success(.stored), at: Self.t0)
        #expect(acked.sent.count == 1)
        #expect(!acked.steps.contains(.read), "still waiting for memory: no frame is read")
        let steps = machine.memoryReserved(true, at: Self.t0).steps
        #expect(steps.contains { if case .enqueue(2, _, 1) = $0 { true } else { false } })
    }

    @Test("no memory because the aggregator shuts down: the ACKs due, then shuttingDown")
    func shuttingDown() {
        var machine = Self.welcomed()
        let ticket = Self.ship(Self.batches[0], &machine)
        _ = machine.frameReceived(Self.batchFrame(Self.batches[1]), at: Self.t0)
        #expect(machine.memoryReserved(false, at: Self.t0).isEmpty)
        let actions = machine.commitFinished(ticket: ticket ?? -1, .success(.stored), at: Self.t0 + 1)
        #expect(actions.sent.count == 1)
        #expect(actions.closing?.errorCode == .shuttingDown)
        #expect(!actions.steps.contains { if case .release = $0 { true } else { false } }, "nothing was reserved")
    }

    // MARK: - Endings after WELCOME (§4.8, §7.7)

    enum Ending: String, CaseIterable, Sendable {
        case agentGoodbye, agentError, peerClosed, unexpectedFrame, undecodableFrame
    }

    @Test(
        "every ending waits for the ACKs due, writes the agent's last-seen time, then closes",
        arguments: Ending.allCases
    )
    func endingAfterAcks(_ ending: Ending) {
        var machine = Self.welcomed()
        let ticket = Self.ship(Self.batches[0], &machine)
        let first: [Action]
        let expected: Machine.Closing
        switch ending {
        case .agentGoodbye:
            first = machine.frameReceived(Self.sample(.goodbye), at: Self.t0)
            expected = .goodbye
        case .agentError:
            first = machine.frameReceived(Self.sample(.error), at: Self.t0)
            expected = .silently(reason: "agent sent ERROR \(ErrorCode.internalError.rawValue)")
        case .peerClosed:
            first = machine.peerClosed(at: Self.t0)
            expected = .goodbye
        case .unexpectedFrame:
            first = machine.frameReceived(Self.sample(.hello), at: Self.t0)
            expected = .error(
                ErrorMessage(code: .unexpectedFrame, message: "hello is not allowed after WELCOME"),
                reason: "unexpected hello"
            )
        case .undecodableFrame:
            let error = WireError.truncated(what: "HEARTBEAT")
            first = machine.frameUndecodable(error, at: Self.t0)
            expected = .error(ErrorMessage(code: .malformedFrame, message: "\(error)"), reason: "bad frame: \(error)")
        }
        #expect(first.closing == nil)
        #expect(!first.steps.contains(.read))
        let last = machine.commitFinished(ticket: ticket ?? -1, .success(.stored), at: Self.t0 + 9)
        #expect(last.steps.filter(\.isProtocol).count == 3, "\(last)")
        #expect(last.sent.count == 1)
        #expect(last.steps.suffix(2) == [.touch(Self.t0 + 9), .close(expected)])
    }

    @Test("heartbeats keep the session open and write the last-seen time at most once a minute")
    func heartbeats() {
        var machine = Self.welcomed()
        let minute = Machine.touchIntervalNanos
        let times: [(Int64, Bool)] = [
            (Self.t0, true), (Self.t0 + 1, false), (Self.t0 + minute, false), (Self.t0 + minute + 1, true),
            (Self.t0 + minute + 2, false), (.min, false), (.max, true),
        ]
        for (time, touches) in times {
            let actions = machine.frameReceived(Self.sample(.heartbeat), at: time)
            #expect(actions.steps == (touches ? [.touch(time), .read] : [.read]), "heartbeat at \(time)")
        }
    }

    @Test("events after the close are answered with nothing")
    func closedIsFinal() {
        var machine = Self.welcomed()
        _ = machine.frameReceived(Self.sample(.goodbye), at: Self.t0)
        #expect(machine.isClosed)
        #expect(machine.frameReceived(Self.sample(.batch), at: Self.t0).isEmpty)
        #expect(machine.frameUndecodable(.truncated(what: "x"), at: Self.t0).isEmpty)
        #expect(machine.peerClosed(at: Self.t0).isEmpty)
        #expect(machine.commitFinished(ticket: 0, .success(.stored), at: Self.t0).isEmpty)
        #expect(machine.memoryReserved(true, at: Self.t0).isEmpty)
    }

    @Test("an answer to a question never asked is an internal error, not a crash")
    func unaskedAnswers() {
        var waiting = Self.challenged()
        #expect(waiting.storeAnswered(.handshakeRecorded, at: Self.t0).closing?.errorCode == .internalError)
        var rate = Self.challenged()
        #expect(rate.enrolmentRateChecked(allowed: true).closing?.errorCode == .internalError)
        var streaming = Self.welcomed()
        #expect(streaming.storeFailed("x").closing?.errorCode == .internalError)
    }
}

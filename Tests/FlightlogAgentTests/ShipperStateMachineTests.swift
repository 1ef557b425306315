import FlightlogWire
import NIOCore
import Testing

@testable import FlightlogAgent

/// Every decision of the agent's half of a connection (PROTOCOL.md §7), made by ``ShipperStateMachine`` without a
/// socket, a clock or a file: frames and snapshots go in, the actions that come out are compared whole.
@Suite("The shipper's state machine")
struct ShipperStateMachineTests {
    typealias Machine = ShipperStateMachine
    typealias Action = ShipperStateMachine.Action

    // MARK: - Fixtures

    static let publicKey = Bytes32([UInt8](repeating: 0xA1, count: 32)) ?? .zero
    static let otherHash = Bytes32([UInt8](repeating: 0xEE, count: 32)) ?? .zero
    static let nonce = Bytes32(Array(0xA0...0xBF)) ?? .zero
    static let epoch: UInt64 = 0x0123_4567_89AB_CDEF
    static let start = ContinuousClock.now

    /// The codes PROTOCOL.md §4.8 marks retryable; every other known code is not.
    static let retryableCodes: Set<UInt16> = [1, 7, 13, 14, 15, 16, 17, 20, 24]

    /// Where the machine stands when the frame arrives.
    enum Phase: String, CaseIterable, CustomTestStringConvertible {
        case idle, awaitingChallenge, awaitingWelcome, resuming, streaming
        var testDescription: String { self.rawValue }
    }

    static func machine(nextSequence: UInt64 = 100, drain: Duration = .seconds(5)) -> Machine {
        Machine(
            configuration: Machine.Configuration(
                publicKey: Self.publicKey,
                agentName: "cc-ws-602",
                epoch: Self.epoch,
                nextSequence: nextSequence,
                drainPeriod: drain
            )
        )
    }

    static func welcome(
        epoch: UInt64 = Self.epoch,
        lastSequence: UInt64 = 0,
        hash: Bytes32 = .zero,
        window: UInt16 = 4,
        heartbeat: UInt16 = 15
    ) -> Frame {
        .welcome(
            Welcome(
                epoch: epoch,
                lastSequence: lastSequence,
                lastBatchHash: hash,
                window: window,
                heartbeatIntervalSeconds: heartbeat,
                aggregatorTimeNanos: 2
            )
        )
    }

    static let challenge = Frame.challenge(Challenge(nonce: Self.nonce, aggregatorTimeNanos: 1))

    /// A machine in `phase`; `resuming` waits on WELCOME's last sequence 5.
    static func machine(
        in phase: Phase,
        window: UInt16 = 4,
        heartbeat: UInt16 = 15,
        drain: Duration = .seconds(5)
    ) -> Machine {
        var machine = Self.machine(drain: drain)
        if phase == .idle { return machine }
        _ = machine.start(agentTimeNanos: 1)
        if phase == .awaitingChallenge { return machine }
        _ = machine.received(Self.challenge, now: Self.start)
        if phase == .awaitingWelcome { return machine }
        let last: UInt64 = phase == .resuming ? 5 : 0
        _ = machine.received(Self.welcome(lastSequence: last, window: window, heartbeat: heartbeat), now: Self.start)
        return machine
    }

    /// A spooled batch whose envelope is made up: the machine only hashes it.
    static func batch(_ sequence: UInt64) -> SpooledBatch {
        SpooledBatch(sequence: sequence, envelope: Array("batch \(sequence)".utf8))
    }

    static func ack(_ batch: SpooledBatch, status: Ack.Status = .stored) -> Frame {
        .ack(Ack(epoch: Self.epoch, sequence: batch.sequence, batchHash: batch.hash, status: status))
    }

    /// Puts `sequences` in flight the way the sender does: a snapshot, then one load per batch.
    static func send(_ sequences: [UInt64], on machine: inout Machine, change: UInt64 = 1, spooled: Int? = nil) {
        let snapshot = SpoolSnapshot(change: change, batches: spooled ?? sequences.count, sequences: sequences)
        let loads = machine.spoolRead(snapshot)
        #expect(loads == sequences.map { .loadBatch(sequence: $0) })
        for sequence in sequences {
            #expect(machine.batchLoaded(Self.batch(sequence)) == [.sendBatch(Self.batch(sequence))])
        }
    }

    static func violation(_ what: String) -> [Action] {
        [
            .send(.error(ErrorMessage(code: .unexpectedFrame, message: what))),
            .close(.ended(reason: "protocol violation by the aggregator: \(what)", retryable: true)),
        ]
    }

    /// One frame of every type but ERROR, with the name the machine's messages use.
    static let everyFrame: [Frame] = [
        .hello(Hello(publicKey: Self.publicKey, epoch: 1, agentTimeNanos: 0, agentName: "x")),
        Self.challenge,
        .proof(Proof(signature: [UInt8](repeating: 0, count: 64))),
        Self.welcome(),
        .batch(ByteBuffer(bytes: [1, 2, 3])),
        .ack(Ack(epoch: Self.epoch, sequence: 1, batchHash: .zero, status: .stored)),
        .heartbeat(Heartbeat(timeNanos: 0)),
        .goodbye(Goodbye(message: "closing")),
        .enroll(Enroll(token: "flt1_x", signature: [UInt8](repeating: 0, count: 64))),
        .enrolled(Enrolled(agentName: "x")),
        .rotate(
            RotationRecord(
                oldPublicKey: Self.publicKey,
                oldEpoch: 1,
                oldHeadSequence: 0,
                oldHeadHash: .zero,
                newPublicKey: Self.publicKey,
                newEpoch: 2,
                timeNanos: 0
            )
        ),
        .rotated(Rotated(newPublicKey: Self.publicKey, newEpoch: 2)),
    ]

    static func frames(except excluded: FrameType...) -> [Frame] {
        Self.everyFrame.filter { !excluded.contains($0.type) }
    }

    // MARK: - Handshake

    @Test func theAgentSpeaksFirstWithHelloNamingItsKeyChainAndName() {
        var machine = Self.machine()
        let hello = Hello(
            version: ProtocolVersion.current,
            publicKey: Self.publicKey,
            epoch: Self.epoch,
            agentTimeNanos: 1_795_683_600_000_000_000,
            agentName: "cc-ws-602"
        )
        #expect(machine.start(agentTimeNanos: 1_795_683_600_000_000_000) == [.send(.hello(hello))])
        #expect(machine.state == .awaitingChallenge)
        #expect(machine.start(agentTimeNanos: 2) == [], "HELLO is sent once")
    }

    @Test(arguments: [ProtocolVersion.first, ProtocolVersion.current])
    func aChallengeInASpokenVersionIsAnsweredWithTheProofOverItsNonce(_ version: UInt16) {
        var machine = Self.machine(in: .awaitingChallenge)
        let challenge = Frame.challenge(Challenge(version: version, nonce: Self.nonce, aggregatorTimeNanos: 1))
        let message = Handshake.proofMessage(nonce: Self.nonce, publicKey: Self.publicKey, epoch: Self.epoch)
        #expect(machine.received(challenge, now: Self.start) == [.sendProof(message: message)])
        #expect(machine.state == .awaitingWelcome)
    }

    /// §4.2: an agent that cannot speak the selected version says GOODBYE; a newer agent is needed, so the
    /// reconnection is slow.
    @Test(arguments: [UInt16(0), ProtocolVersion.current + 1, .max])
    func aChallengeInAnotherVersionGetsGoodbyeAndIsNotRetried(_ version: UInt16) {
        var machine = Self.machine(in: .awaitingChallenge)
        let challenge = Frame.challenge(Challenge(version: version, nonce: Self.nonce, aggregatorTimeNanos: 1))
        #expect(
            machine.received(challenge, now: Self.start) == [
                .send(.goodbye(Goodbye(message: "version \(version) not supported"))),
                .close(.ended(reason: "aggregator selected protocol version \(version)", retryable: false)),
            ]
        )
    }

    /// §7.2 rule 6: during the handshake, anything but the frame expected next is `unexpectedFrame`.
    @Test(arguments: Self.frames(except: .challenge, .goodbye))
    func anyFrameButChallengeAfterHelloIsUnexpected(_ frame: Frame) {
        var machine = Self.machine(in: .awaitingChallenge)
        #expect(machine.received(frame, now: Self.start) == Self.violation("expected CHALLENGE"))
    }

    @Test(arguments: Self.frames(except: .welcome, .goodbye))
    func anyFrameButWelcomeAfterProofIsUnexpected(_ frame: Frame) {
        var machine = Self.machine(in: .awaitingWelcome)
        #expect(machine.received(frame, now: Self.start) == Self.violation("expected WELCOME"))
    }

    @Test(arguments: Self.frames(except: .goodbye))
    func anyFrameBeforeHelloIsUnexpected(_ frame: Frame) {
        var machine = Self.machine(in: .idle)
        #expect(machine.received(frame, now: Self.start) == Self.violation("unexpected \(frame.type) before HELLO"))
    }

    // MARK: - Resume (§7.3)

    @Test func aWelcomeForAnotherChainIsUnexpected() {
        var machine = Self.machine(in: .awaitingWelcome)
        let actions = machine.received(Self.welcome(epoch: Self.epoch + 1), now: Self.start)
        #expect(actions == Self.violation("WELCOME names epoch \(Self.epoch + 1), not \(Self.epoch)"))
    }

    /// The aggregator holds a batch this agent never built: another machine has the key, or the state came back
    /// from an old backup. Nothing is sent, nothing is deleted, and an operator must look.
    @Test(arguments: [UInt64(100), 101, .max])
    func aWelcomeAheadOfTheAgentStopsShippingThisChain(_ lastSequence: UInt64) {
        var machine = Self.machine(in: .awaitingWelcome)
        #expect(
            machine.received(Self.welcome(lastSequence: lastSequence), now: Self.start) == [
                .close(
                    .ended(
                        reason: "aggregator holds sequence \(lastSequence) but this agent only built up to 99",
                        retryable: false
                    )
                )
            ]
        )
    }

    @Test(arguments: [UInt16(1), 15, 65535])
    func aWelcomeWithNothingStoredOpensAtOnceWithThreeIntervalsOfSilenceAllowed(_ heartbeat: UInt16) {
        var machine = Self.machine(in: .awaitingWelcome)
        let actions = machine.received(Self.welcome(window: 7, heartbeat: heartbeat), now: Self.start)
        #expect(actions == [.open(silenceTimeout: .seconds(3 * Int(heartbeat)))])
        #expect(machine.spoolRequest == Machine.SpoolRequest(after: 0, limit: 7))
        #expect(machine.nextHeartbeat == Self.start + .seconds(heartbeat))
    }

    struct ResumeCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var ours: Bytes32?
        var alarm: Bool
    }

    /// §7.3 rule 1: the spool is trimmed through WELCOME's last sequence; a different hash there is an alarm, not
    /// a refusal; a batch already gone is nothing to compare.
    @Test(arguments: [
        ResumeCase(testDescription: "same batch", ours: ShipperStateMachineTests.batch(5).hash, alarm: false),
        ResumeCase(testDescription: "another batch", ours: ShipperStateMachineTests.otherHash, alarm: true),
        ResumeCase(testDescription: "no longer spooled", ours: nil, alarm: false),
    ])
    func resumingTrimsTheSpoolAndAlarmsOnAnotherHistory(_ row: ResumeCase) {
        var machine = Self.machine(in: .awaitingWelcome)
        let welcome = Self.welcome(lastSequence: 5, hash: Self.batch(5).hash)
        #expect(machine.received(welcome, now: Self.start) == [.findResumeBatch(sequence: 5)])
        #expect(machine.spoolRequest == nil, "nothing is sent before the resume point is settled")
        let later = Self.start + .seconds(1)
        let expected: [Action] =
            (row.alarm ? [.raiseResumeAlarm(sequence: 5)] : [])
            + [.deleteSpooled(through: 5), .open(silenceTimeout: .seconds(45))]
        #expect(machine.resumeBatchFound(hash: row.ours, now: later) == expected)
        #expect(machine.spoolRequest == Machine.SpoolRequest(after: 5, limit: 4), "batches resume after 5")
        #expect(machine.nextHeartbeat == later + .seconds(15))
    }

    /// An ERROR `storageFailure` names the batch not stored; on the next connection a WELCOME naming a later head
    /// (an aggregator that broke §7.4 rule 4) does not get that batch deleted: it and those after it are sent again.
    @Test func aBatchTheAggregatorSaidItDidNotStoreIsSentAgainWhateverTheHead() {
        var first = Self.machine(in: .streaming)
        let refusal = ErrorMessage(code: .storageFailure, sequence: 7, message: "not stored, resend later")
        let ended = first.received(.error(refusal), now: Self.start)
        guard case .ended(_, true, .storageFailure, nil, let unstored)? = first.outcome else {
            Issue.record("expected a retryable end naming the batch: \(ended)")
            return
        }
        #expect(unstored == 7)

        var configuration = Self.machine().configuration
        configuration.resendFrom = unstored
        var next = Machine(configuration: configuration)
        _ = next.start(agentTimeNanos: 1)
        _ = next.received(Self.challenge, now: Self.start)
        let welcome = Self.welcome(lastSequence: 8, hash: Self.batch(8).hash)
        #expect(
            next.received(welcome, now: Self.start) == [
                .resendingUnstored(from: 7, head: 8), .findResumeBatch(sequence: 8),
            ]
        )
        #expect(
            next.resumeBatchFound(hash: Self.batch(8).hash, now: Self.start) == [
                .deleteSpooled(through: 6), .open(silenceTimeout: .seconds(45)),
            ]
        )
        #expect(next.spoolRequest == Machine.SpoolRequest(after: 6, limit: 4), "batch 7 goes out again")

        // A head before the batch not stored is the usual case: nothing changes.
        var usual = Machine(configuration: configuration)
        _ = usual.start(agentTimeNanos: 1)
        _ = usual.received(Self.challenge, now: Self.start)
        #expect(usual.received(Self.welcome(lastSequence: 6), now: Self.start) == [.findResumeBatch(sequence: 6)])
        #expect(usual.resumeBatchFound(hash: nil, now: Self.start).first == .deleteSpooled(through: 6))
    }

    /// While the agent looks at its own batch, frames are judged as after WELCOME with nothing in flight.
    @Test func framesWhileResumingAreJudgedAsAfterWelcome() {
        var machine = Self.machine(in: .resuming)
        #expect(machine.received(.heartbeat(Heartbeat(timeNanos: 3)), now: Self.start) == [])
        let ack = Frame.ack(Ack(epoch: Self.epoch, sequence: 6, batchHash: .zero, status: .stored))
        #expect(machine.received(ack, now: Self.start) == Self.violation("unexpected ACK for sequence 6"))
        #expect(machine.resumeBatchFound(hash: nil, now: Self.start) == [], "the connection is over")
    }

    // MARK: - Window (§7.4 rule 1)

    @Test(arguments: [UInt16(1), 2, 4, 64])
    func theWindowBoundsTheBatchesInFlight(_ window: UInt16) {
        var machine = Self.machine(in: .streaming, window: window)
        let size = Int(window)
        #expect(machine.spoolRequest == Machine.SpoolRequest(after: 0, limit: size))
        Self.send(Array(1...UInt64(size)), on: &machine, spooled: size + 3)
        #expect(machine.spoolRequest == Machine.SpoolRequest(after: UInt64(size), limit: 0))
        let full = SpoolSnapshot(change: 2, batches: size + 3, sequences: [])
        #expect(machine.spoolRead(full) == [.waitForSpoolChange(after: 2)], "a full window waits for an ACK")
        #expect(machine.batchLoaded(Self.batch(UInt64(size) + 1)) == [], "no batch past the window")
        #expect(
            machine.received(Self.ack(Self.batch(1)), now: Self.start) == [.acknowledged(sequence: 1, status: .stored)]
        )
        #expect(machine.spoolRequest == Machine.SpoolRequest(after: UInt64(size), limit: 1), "one ACK, one more batch")
    }

    /// The journal lists what was asked for; the machine still takes only sequences after the last one sent, in
    /// order, as many as fit.
    @Test func onlyBatchesAfterTheLastSentAndWithinTheWindowAreLoaded() {
        var machine = Self.machine(in: .streaming, window: 3)
        Self.send([1], on: &machine)
        let snapshot = SpoolSnapshot(change: 2, batches: 6, sequences: [1, 2, 3, 4, 5])
        #expect(machine.spoolRead(snapshot) == [.loadBatch(sequence: 2), .loadBatch(sequence: 3)])
        #expect(machine.batchLoaded(Self.batch(1)) == [], "a batch already in flight is not sent twice")
    }

    @Test func anEmptySpoolWaitsForItsNextChange() {
        var machine = Self.machine(in: .streaming)
        #expect(
            machine.spoolRead(SpoolSnapshot(change: 41, batches: 0, sequences: [])) == [.waitForSpoolChange(after: 41)]
        )
    }

    // MARK: - Acknowledgements (§7.4 rules 2–3)

    @Test(arguments: Ack.Status.allCases)
    func acksInOrderDeleteTheirBatchesWhateverTheirStatus(_ status: Ack.Status) {
        var machine = Self.machine(in: .streaming)
        Self.send([1, 2, 3], on: &machine)
        for sequence in UInt64(1)...3 {
            let actions = machine.received(Self.ack(Self.batch(sequence), status: status), now: Self.start)
            #expect(actions == [.acknowledged(sequence: sequence, status: status)])
        }
        #expect(machine.spoolRequest == Machine.SpoolRequest(after: 3, limit: 4), "the window is free again")
    }

    struct AckCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Batches in flight, oldest first, before the ACK.
        var inFlight: [UInt64]
        var ack: Ack
        var message: String
    }

    static let ackCases: [AckCase] = {
        let one = ShipperStateMachineTests.batch(1)
        let two = ShipperStateMachineTests.batch(2)
        let epoch = ShipperStateMachineTests.epoch
        let other = ShipperStateMachineTests.otherHash
        return [
            AckCase(
                testDescription: "out of order",
                inFlight: [1, 2],
                ack: Ack(epoch: epoch, sequence: 2, batchHash: two.hash, status: .stored),
                message: "unexpected ACK for sequence 2"
            ),
            AckCase(
                testDescription: "unknown sequence",
                inFlight: [1, 2],
                ack: Ack(epoch: epoch, sequence: 99, batchHash: one.hash, status: .stored),
                message: "unexpected ACK for sequence 99"
            ),
            AckCase(
                testDescription: "nothing in flight",
                inFlight: [],
                ack: Ack(epoch: epoch, sequence: 1, batchHash: one.hash, status: .duplicate),
                message: "unexpected ACK for sequence 1"
            ),
            AckCase(
                testDescription: "another chain",
                inFlight: [1],
                ack: Ack(epoch: epoch + 1, sequence: 1, batchHash: one.hash, status: .stored),
                message: "unexpected ACK for sequence 1"
            ),
            AckCase(
                testDescription: "another batch's hash",
                inFlight: [1],
                ack: Ack(epoch: epoch, sequence: 1, batchHash: other, status: .stored),
                message: "ACK for sequence 1 names batch hash \(other), not \(one.hash)"
            ),
        ]
    }()

    /// An ACK must name the oldest batch in flight: epoch, sequence and hash. Anything else is `unexpectedFrame`,
    /// and the batch stays spooled, to be resent on the next connection.
    @Test(arguments: Self.ackCases)
    func anAckThatDoesNotNameTheOldestBatchInFlightIsUnexpected(_ row: AckCase) {
        var machine = Self.machine(in: .streaming)
        if !row.inFlight.isEmpty { Self.send(row.inFlight, on: &machine) }
        #expect(machine.received(.ack(row.ack), now: Self.start) == Self.violation(row.message))
    }

    @Test func theSameAckTwiceIsUnexpectedTheSecondTime() {
        var machine = Self.machine(in: .streaming)
        Self.send([1, 2], on: &machine)
        #expect(
            machine.received(Self.ack(Self.batch(1)), now: Self.start) == [.acknowledged(sequence: 1, status: .stored)]
        )
        #expect(
            machine.received(Self.ack(Self.batch(1)), now: Self.start)
                == Self.violation("unexpected ACK for sequence 1")
        )
    }

    // MARK: - Frames after WELCOME

    @Test(arguments: Self.frames(except: .ack, .heartbeat, .goodbye))
    func aHandshakeOrAgentFrameAfterWelcomeIsUnexpected(_ frame: Frame) {
        var machine = Self.machine(in: .streaming)
        #expect(machine.received(frame, now: Self.start) == Self.violation("unexpected \(frame.type)"))
    }

    @Test func aHeartbeatFromTheAggregatorIsOnlyASignOfLife() {
        var machine = Self.machine(in: .streaming)
        Self.send([1], on: &machine)
        #expect(machine.received(.heartbeat(Heartbeat(timeNanos: 5)), now: Self.start) == [])
        #expect(machine.spoolRequest == Machine.SpoolRequest(after: 1, limit: 3))
    }

    // MARK: - ERROR and GOODBYE (§4.8, §4.9)

    /// GOODBYE is allowed in every state (§7.2 rule 6) and ends the session without an answer: the aggregator
    /// closes after it (§4.9). It is retried with backoff (§7.8).
    @Test(arguments: Phase.allCases)
    func aGoodbyeFromTheAggregatorEndsTheConnectionToBeRetried(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        #expect(
            machine.received(.goodbye(Goodbye(message: "closing")), now: Self.start) == [
                .close(.ended(reason: "aggregator said goodbye: closing", retryable: true))
            ]
        )
    }

    /// Every ERROR is fatal, in every state; its code says whether to reconnect soon (§7.8).
    @Test(arguments: Phase.allCases, ErrorCode.allCases)
    func anErrorFromTheAggregatorEndsTheConnectionRetryableByItsCode(_ phase: Phase, _ code: ErrorCode) {
        var machine = Self.machine(in: phase)
        let error = Frame.error(ErrorMessage(code: code, sequence: 7, message: "why"))
        #expect(
            machine.received(error, now: Self.start) == [
                .countErrorReceived,
                .close(
                    .ended(
                        reason: "ERROR \(code) sequence 7: why",
                        retryable: Self.retryableCodes.contains(code.rawValue),
                        refusal: code,
                        // Only a storage failure says the batch it names was not stored.
                        unstored: code == .storageFailure ? 7 : nil
                    )
                ),
            ]
        )
    }

    /// Codes this agent does not know (0 is reserved; 26 and up may be added by a later aggregator) are accepted,
    /// named by their number, and not retryable (§4.8): the agent reconnects slowly rather than hammering.
    @Test(arguments: [UInt16(0), 26, .max])
    func anErrorWithAnUnknownCodeIsNamedByItsNumber(_ raw: UInt16) throws {
        var machine = Self.machine(in: .streaming)
        // Decoded from the wire: ErrorMessage's public initialiser takes only known codes.
        var body = ByteBuffer()
        body.writeInteger(raw)
        body.writeInteger(UInt64(0))
        body.writeInteger(UInt16(3))
        body.writeString("new")
        let frame = try Frame.decode(typeByte: FrameType.error.rawValue, body: &body)
        #expect(
            machine.received(frame, now: Self.start) == [
                .countErrorReceived, .close(.ended(reason: "ERROR \(raw) sequence 0: new", retryable: false)),
            ]
        )
    }

    // MARK: - Frames that do not decode (§3 rules 7–8)

    static let undecodable: [(WireError, ErrorCode)] = [
        (.frameTooLarge(length: 5_000_000, limit: WireLimits.maxFrameLength), .frameTooLarge),
        (.lengthExceedsLimit(what: "message", length: 2000, limit: WireLimits.maxMessageLength), .malformedFrame),
        (.truncated(what: "CHALLENGE"), .malformedFrame),
        (.unknownFrameType(0x99), .malformedFrame),
        (.trailingBytes(what: "ACK", count: 1), .malformedFrame),
        (.invalidUTF8(what: "message"), .malformedFrame),
        (.invalidValue(what: "window", value: 0), .malformedFrame),
        (.badMagic(what: "HELLO"), .malformedFrame),
        (.unsupportedVersion(what: "HELLO", version: 0), .malformedFrame),
    ]

    /// In every state the agent answers a frame it cannot decode with `malformedFrame`, or `frameTooLarge` for a
    /// length past the limit, never with the aggregator's HELLO codes; then it closes, to retry.
    @Test(arguments: Phase.allCases, Self.undecodable)
    func aFrameThatDoesNotDecodeIsAnsweredWithItsCode(_ phase: Phase, _ row: (WireError, ErrorCode)) {
        var machine = Self.machine(in: phase)
        let (error, code) = row
        #expect(
            machine.receivedUndecodable(error) == [
                .send(.error(ErrorMessage(code: code, message: "\(error)"))),
                .close(.ended(reason: "the aggregator sent a frame that does not decode: \(error)", retryable: true)),
            ]
        )
    }

    /// The agent pointed at an HTTP port reads "HTTP" as a frame length: the outcome names the greeting, so that the
    /// agent's log can say it reached something other than an aggregator.
    @Test(arguments: [("HTTP", UInt32(0x4854_5450)), ("SSH-", UInt32(0x5353_482D))])
    func aTextProtocolsGreetingIsNamed(_ greeting: String, _ length: UInt32) {
        var machine = Self.machine(in: .awaitingChallenge)
        let error = WireError.frameTooLarge(length: Int(length), limit: WireLimits.maxFrameLength)
        let actions = machine.receivedUndecodable(error)
        #expect(
            actions.last
                == .close(
                    .ended(
                        reason: "the aggregator sent a frame that does not decode: \(error)",
                        retryable: true,
                        foreignGreeting: greeting
                    )
                )
        )
    }

    // MARK: - Close without GOODBYE (§2 rule 6)

    @Test(arguments: Phase.allCases)
    func aCloseWithoutGoodbyeIsLikeANetworkFailure(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        #expect(
            machine.connectionClosed() == [
                .close(.ended(reason: "the aggregator closed the connection", retryable: true))
            ]
        )
        #expect(machine.outcome == .ended(reason: "the aggregator closed the connection", retryable: true))
    }

    // MARK: - Silence (§7.6)

    /// The read timeout closed the connection: named as silence, with the timeout of the state (30 s before
    /// WELCOME, 3 × H after), and retried.
    @Test(arguments: [
        (Phase.idle, UInt16(15), 30), (.awaitingChallenge, 15, 30), (.awaitingWelcome, 15, 30), (.resuming, 15, 30),
        (.streaming, 15, 45), (.streaming, 1, 3),
    ])
    func silenceEndsTheConnectionNamedAsSilence(_ phase: Phase, _ heartbeat: UInt16, _ seconds: Int) {
        var machine = Self.machine(in: phase, heartbeat: heartbeat)
        let outcome = Machine.Outcome.ended(
            reason: "nothing received from the aggregator for \(seconds) s",
            retryable: true
        )
        #expect(machine.silenceTimedOut() == [.close(outcome)])
        #expect(machine.silenceTimedOut() == [], "once")
    }

    // MARK: - Heartbeats (§7.6)

    @Test(arguments: [UInt16(1), 15, 300])
    func aHeartbeatIsDueEveryIntervalAfterWelcome(_ interval: UInt16) {
        var machine = Self.machine(in: .streaming, heartbeat: interval)
        let h = Duration.seconds(interval)
        #expect(machine.tick(now: Self.start + h - .nanoseconds(1)) == [])
        #expect(machine.tick(now: Self.start + h) == [.sendHeartbeat])
        #expect(machine.nextHeartbeat == Self.start + h * 2)
        #expect(machine.tick(now: Self.start + h + h / 2) == [], "one heartbeat per interval")
        #expect(machine.tick(now: Self.start + h * 2) == [.sendHeartbeat])
    }

    /// A late tick (a busy machine) sends one heartbeat and counts the next interval from then.
    @Test func aLateTickSendsOneHeartbeatAndRestartsTheInterval() {
        var machine = Self.machine(in: .streaming, heartbeat: 15)
        let late = Self.start + .seconds(100)
        #expect(machine.tick(now: late) == [.sendHeartbeat])
        #expect(machine.nextHeartbeat == late + .seconds(15))
    }

    @Test(arguments: [Phase.idle, .awaitingChallenge, .awaitingWelcome, .resuming])
    func noHeartbeatBeforeTheSessionIsOpen(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        #expect(machine.nextHeartbeat == nil)
        #expect(machine.tick(now: Self.start + .seconds(3600)) == [])
    }

    @Test func aHeartbeatCarriesTheCountersByNameAsManyAsTheLimitAllows() {
        let counters = Dictionary(uniqueKeysWithValues: (0..<70).map { ($0 < 10 ? "c0\($0)" : "c\($0)", UInt64($0)) })
        let heartbeat = Machine.heartbeat(timeNanos: 9, counters: counters)
        #expect(heartbeat.timeNanos == 9)
        #expect(heartbeat.counters.count == WireLimits.maxHeartbeatCounters)
        #expect(heartbeat.counters.first == Heartbeat.Counter(name: "c00", value: 0))
        #expect(heartbeat.counters.last == Heartbeat.Counter(name: "c63", value: 63))
    }

    // MARK: - Stopping (§7.7)

    @Test func aStopWithNothingInFlightAndAnEmptySpoolSaysGoodbyeAtOnce() {
        var machine = Self.machine(in: .streaming)
        let actions = machine.shutdownRequested(
            spool: SpoolSnapshot(change: 3, batches: 0, sequences: []),
            now: Self.start
        )
        #expect(actions == [.send(.goodbye(Goodbye(message: "agent stopping"))), .close(.drained)])
        #expect(machine.outcome == .drained)
    }

    /// The stop event is the last batch: it ships, its ACK arrives, then GOODBYE.
    @Test func aStopWithBatchesInFlightWaitsForTheirAcksThenSaysGoodbye() {
        var machine = Self.machine(in: .streaming)
        Self.send([1, 2], on: &machine, change: 1)
        #expect(
            machine.shutdownRequested(spool: SpoolSnapshot(change: 1, batches: 2, sequences: []), now: Self.start) == []
        )
        #expect(
            machine.received(Self.ack(Self.batch(1)), now: Self.start) == [.acknowledged(sequence: 1, status: .stored)]
        )
        #expect(
            machine.spoolRead(SpoolSnapshot(change: 2, batches: 1, sequences: [])) == [.waitForSpoolChange(after: 2)]
        )
        #expect(
            machine.received(Self.ack(Self.batch(2)), now: Self.start) == [.acknowledged(sequence: 2, status: .stored)]
        )
        #expect(
            machine.spoolRead(SpoolSnapshot(change: 3, batches: 0, sequences: [])) == [
                .send(.goodbye(Goodbye(message: "agent stopping"))), .close(.drained),
            ]
        )
    }

    @Test func aStopWithBatchesNotSentYetShipsThemFirst() {
        var machine = Self.machine(in: .streaming)
        #expect(
            machine.shutdownRequested(spool: SpoolSnapshot(change: 4, batches: 1, sequences: []), now: Self.start) == []
        )
        Self.send([1], on: &machine, change: 4)
        #expect(
            machine.received(Self.ack(Self.batch(1)), now: Self.start) == [.acknowledged(sequence: 1, status: .stored)]
        )
        #expect(machine.spoolRead(SpoolSnapshot(change: 5, batches: 0, sequences: [])).last == .close(.drained))
    }

    /// The sender's snapshot and the stop's are taken at different times: an older empty one must not make the
    /// agent say GOODBYE over a batch committed since (the collector's last one).
    @Test func anOlderSnapshotDoesNotHideANewerBatch() {
        var machine = Self.machine(in: .streaming)
        #expect(
            machine.shutdownRequested(spool: SpoolSnapshot(change: 8, batches: 1, sequences: []), now: Self.start) == []
        )
        #expect(
            machine.spoolRead(SpoolSnapshot(change: 7, batches: 0, sequences: [])) == [.waitForSpoolChange(after: 7)]
        )
        #expect(machine.outcome == nil)
    }

    @Test func withoutAStopAnEmptySpoolIsNoReasonToLeave() {
        var machine = Self.machine(in: .streaming)
        #expect(
            machine.spoolRead(SpoolSnapshot(change: 1, batches: 0, sequences: [])) == [.waitForSpoolChange(after: 1)]
        )
        #expect(machine.outcome == nil)
    }

    @Test(arguments: [Duration.seconds(1), .seconds(5), .milliseconds(1500)])
    func theDrainPeriodEndsAConnectionThatCouldNotShipEverything(_ drain: Duration) {
        var machine = Self.machine(in: .streaming, heartbeat: 3600, drain: drain)
        Self.send([1], on: &machine)
        let stop = Self.start + .seconds(2)
        #expect(machine.shutdownRequested(spool: SpoolSnapshot(change: 1, batches: 1, sequences: []), now: stop) == [])
        #expect(machine.drainDeadline == stop + drain)
        #expect(machine.tick(now: stop + drain - .nanoseconds(1)) == [])
        let expired = Action.close(
            .ended(reason: "stopping before the spool was shipped; it ships on next start", retryable: true)
        )
        #expect(machine.tick(now: stop + drain) == [expired])
    }

    @Test func aSecondStopKeepsTheFirstDeadline() {
        var machine = Self.machine(in: .streaming)
        Self.send([1], on: &machine)
        let spool = SpoolSnapshot(change: 1, batches: 1, sequences: [])
        _ = machine.shutdownRequested(spool: spool, now: Self.start)
        #expect(machine.shutdownRequested(spool: spool, now: Self.start + .seconds(3)) == [])
        #expect(machine.drainDeadline == Self.start + .seconds(5))
    }

    /// A stop during the handshake starts the drain period at once: a slow handshake cannot hold the agent's exit.
    @Test(arguments: [Phase.idle, .awaitingChallenge, .awaitingWelcome, .resuming])
    func aStopBeforeTheSessionIsOpenStartsTheDrainPeriod(_ phase: Phase) {
        var machine = Self.machine(in: phase)
        #expect(
            machine.shutdownRequested(spool: SpoolSnapshot(change: 1, batches: 0, sequences: []), now: Self.start) == []
        )
        #expect(machine.tick(now: Self.start + .seconds(5)).last?.isClose == true)
    }

    @Test func aStopDuringTheHandshakeSaysGoodbyeOnceOpenAndEmpty() {
        var machine = Self.machine(in: .awaitingWelcome)
        _ = machine.shutdownRequested(spool: SpoolSnapshot(change: 1, batches: 0, sequences: []), now: Self.start)
        #expect(machine.received(Self.welcome(), now: Self.start) == [.open(silenceTimeout: .seconds(45))])
        #expect(machine.spoolRead(SpoolSnapshot(change: 1, batches: 0, sequences: [])).last == .close(.drained))
    }

    // MARK: - After the end

    /// Once closed, the machine decides nothing more: no frame goes out after GOODBYE or ERROR.
    @Test(arguments: Self.everyFrame)
    func nothingHappensAfterTheEnd(_ frame: Frame) {
        var machine = Self.machine(in: .streaming)
        Self.send([1], on: &machine)
        let outcome = Machine.Outcome.ended(reason: "aggregator said goodbye: closing", retryable: true)
        #expect(machine.received(.goodbye(Goodbye(message: "closing")), now: Self.start) == [.close(outcome)])
        let spool = SpoolSnapshot(change: 9, batches: 0, sequences: [2])
        #expect(machine.received(frame, now: Self.start) == [])
        #expect(machine.received(.error(ErrorMessage(code: .timeout, message: "late")), now: Self.start) == [])
        #expect(machine.receivedUndecodable(.unknownFrameType(0x99)) == [])
        #expect(machine.connectionClosed() == [])
        #expect(machine.silenceTimedOut() == [])
        #expect(machine.spoolRead(spool) == [])
        #expect(machine.batchLoaded(Self.batch(2)) == [])
        #expect(machine.shutdownRequested(spool: spool, now: Self.start) == [])
        #expect(machine.tick(now: Self.start + .seconds(3600)) == [])
        #expect(machine.resumeBatchFound(hash: nil, now: Self.start) == [])
        #expect(machine.spoolRequest == nil)
        #expect(machine.outcome == outcome, "the first end stands")
    }
}

extension ShipperStateMachine.Action {
    var isClose: Bool {
        if case .close = self { return true }
        return false
    }
}

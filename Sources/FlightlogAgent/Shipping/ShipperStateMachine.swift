import FlightlogWire

/// The agent's half of one connection (PROTOCOL.md §7) as a value: frames from the aggregator, what the spool
/// holds, the time and the agent's stop go in; ``Action``s come out. It reads no clock and does no I/O, so that
/// every protocol decision is tested without a socket; ``ShipperConnection`` feeds it and carries the actions out.
///
/// ```
/// idle ─start─► awaitingChallenge ─CHALLENGE─► awaitingWelcome ─WELCOME─┬──────────────────────► streaming
///               (HELLO sent)                   (PROOF sent)            │ last sequence > 0        ▲
///                                                                      └─► resuming ─our hash─────┘
/// every state ─ERROR, GOODBYE, a frame not allowed, one that does not decode, close, drain over─► closed
/// streaming ─stopping, nothing in flight, spool empty─► closed (GOODBYE sent)
/// ```
///
/// ERROR ends the connection in every state (§4.8). A frame that decodes but is not allowed in the state is
/// answered with ERROR `unexpectedFrame`, and one that does not decode with `malformedFrame` (`frameTooLarge` past
/// the length limit) whatever the state (§3 rules 7–8); both end the connection, to be retried.
struct ShipperStateMachine {
    /// Who connects, where its chain stands, and how long it may drain when stopping.
    struct Configuration: Equatable, Sendable {
        var publicKey: Bytes32
        /// The name HELLO carries, for people.
        var agentName: String
        /// The chain the agent ships (PROTOCOL.md §8): HELLO announces it, WELCOME and every ACK must name it.
        var epoch: UInt64
        /// The sequence the next batch will be built at: the aggregator cannot hold it or any later one.
        var nextSequence: UInt64
        /// How long the connection may go on shipping once the agent is stopping.
        var drainPeriod: Duration
        /// The batch an aggregator last answered `storageFailure` for, on the connection before this one: it and the
        /// batches after it are sent again even if WELCOME names a later head, instead of being deleted as stored
        /// (PROTOCOL.md §7.3 rule 3). An aggregator that keeps §7.4 rule 4 never names such a head; one that does not
        /// would have the agent delete the one batch it never stored.
        var resendFrom: UInt64? = nil
    }

    enum State: Equatable, Sendable {
        /// Connected; nothing sent yet.
        case idle
        /// HELLO sent.
        case awaitingChallenge
        /// PROOF sent.
        case awaitingWelcome
        /// WELCOME names a batch the aggregator holds; the agent looks at its own.
        case resuming(ResumingState)
        /// Batches flow.
        case streaming(StreamingState)
        /// Over; nothing more is sent or decided.
        case closed(Outcome)
    }

    /// How a connection ended.
    enum Outcome: Equatable, Sendable {
        /// The agent was stopping and everything spooled was acknowledged: GOODBYE was sent.
        case drained
        /// Anything else: why, for people, and whether to reconnect with the usual backoff (`retryable`) or slowly,
        /// because an operator must act (PROTOCOL.md §7.8); `refusal` is the code of the aggregator's ERROR, if one
        /// ended it; `foreignGreeting` the first bytes of a peer that is not a Flightlog aggregator at all (an HTTP
        /// server's `HTTP`, an SSH server's `SSH-`), which the agent read as a frame length.
        /// `unstored`: the batch an ERROR `storageFailure` named (not stored; see ``Configuration/resendFrom``).
        case ended(
            reason: String,
            retryable: Bool,
            refusal: ErrorCode? = nil,
            foreignGreeting: String? = nil,
            unstored: UInt64? = nil
        )
    }

    /// What the connection must do.
    enum Action: Equatable, Sendable {
        /// Write the frame.
        case send(Frame)
        /// Sign the proof message (PROTOCOL.md §4.3) with the agent's key and write the signature as PROOF.
        case sendProof(message: [UInt8])
        /// Read the spooled batch at `sequence` and hand it to ``ShipperStateMachine/batchLoaded(_:)``.
        case loadBatch(sequence: UInt64)
        /// Write the batch as BATCH, byte for byte as spooled.
        case sendBatch(SpooledBatch)
        /// Write a HEARTBEAT with the agent's counters (``ShipperStateMachine/heartbeat(timeNanos:counters:)``).
        case sendHeartbeat
        /// Nothing to send until the spool changes after the snapshot whose change count is `after`: a commit,
        /// or an ACK that frees the window.
        case waitForSpoolChange(after: UInt64)
        /// Hash the agent's own spooled batch at `sequence`, if it still has it, and hand the hash to
        /// ``ShipperStateMachine/resumeBatchFound(hash:now:)``.
        case findResumeBatch(sequence: UInt64)
        /// The aggregator holds another batch than the agent's at `sequence` (PROTOCOL.md §7.3 rule 1): alarm.
        case raiseResumeAlarm(sequence: UInt64)
        /// Delete the spooled batches through `sequence`: WELCOME says the aggregator holds them.
        case deleteSpooled(through: UInt64)
        /// WELCOME names `head`, past batch `from` that the aggregator said it did not store: the batches from `from`
        /// on are sent again rather than deleted (``Configuration/resendFrom``); say so.
        case resendingUnstored(from: UInt64, head: UInt64)
        /// The oldest batch in flight is stored now or was already (`status`): delete it from the spool, count it.
        case acknowledged(sequence: UInt64, status: Ack.Status)
        /// The aggregator sent ERROR: count it.
        case countErrorReceived
        /// The handshake is done: from now on `silenceTimeout` without a frame is a dead peer; start shipping
        /// (``ShipperStateMachine/spoolRequest``) and heartbeats (``ShipperStateMachine/nextHeartbeat``).
        case open(silenceTimeout: Duration)
        /// End the connection.
        case close(Outcome)
    }

    /// Where the next spool snapshot starts and how many sequences it may list: what the window has room for.
    struct SpoolRequest: Equatable, Sendable {
        var after: UInt64
        var limit: Int
    }

    /// Silence from the aggregator allowed before WELCOME. After it, ``StreamingState/silenceTimeout``.
    static let handshakeSilenceTimeout = Duration.seconds(30)
    /// The GOODBYE of an agent that stops (PROTOCOL.md §7.7 rule 1).
    static let stoppingMessage = "agent stopping"

    let configuration: Configuration
    private(set) var state: State = .idle
    /// When the connection must end, drained or not: set once the agent is stopping.
    private(set) var drainDeadline: ContinuousClock.Instant?
    /// The most recent spool snapshot seen (by its change count), from the sender or from the stop.
    private var spool: SpoolSnapshot?

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// How the connection ended, once it did.
    var outcome: Outcome? {
        guard case .closed(let outcome) = self.state else { return nil }
        return outcome
    }

    /// What the sender should look at in the spool next; nil unless streaming.
    var spoolRequest: SpoolRequest? {
        guard case .streaming(let streaming) = self.state else { return nil }
        return SpoolRequest(after: streaming.window.lastSent, limit: streaming.window.room)
    }

    /// When the next HEARTBEAT is due; nil unless streaming.
    var nextHeartbeat: ContinuousClock.Instant? {
        guard case .streaming(let streaming) = self.state else { return nil }
        return streaming.nextHeartbeat
    }

    // MARK: - Events

    /// The connection is up: the agent speaks first (PROTOCOL.md §2 rule 2, §7.2 rule 1).
    mutating func start(agentTimeNanos: Int64) -> [Action] {
        guard case .idle = self.state else { return [] }
        self.state = .awaitingChallenge
        let hello = Hello(
            publicKey: self.configuration.publicKey,
            epoch: self.configuration.epoch,
            agentTimeNanos: agentTimeNanos,
            agentName: self.configuration.agentName
        )
        return [.send(.hello(hello))]
    }

    /// A frame arrived.
    mutating func received(_ frame: Frame, now: ContinuousClock.Instant) -> [Action] {
        if case .closed = self.state { return [] }
        // ERROR and GOODBYE are allowed in every state and end the session (§7.2 rule 6): ERROR is fatal (§4.8),
        // GOODBYE an orderly close, to be retried (§7.8).
        if case .error(let error) = frame { return self.peerSentError(error) }
        if case .goodbye(let goodbye) = frame {
            return self.close(.ended(reason: "aggregator said goodbye: \(goodbye.message)", retryable: true))
        }
        switch self.state {
        case .idle:
            return self.violation("unexpected \(frame.type) before HELLO")
        case .awaitingChallenge:
            guard case .challenge(let challenge) = frame else { return self.violation("expected CHALLENGE") }
            return self.challenged(challenge)
        case .awaitingWelcome:
            guard case .welcome(let welcome) = frame else { return self.violation("expected WELCOME") }
            return self.welcomed(welcome, now: now)
        case .resuming(let resuming):
            // Nothing is in flight yet, so an ACK is as unexpected as anything but a sign of life or GOODBYE.
            var session = resuming.session
            return self.receivedInSession(frame, session: &session)
        case .streaming(var streaming):
            let actions = self.receivedInSession(frame, session: &streaming)
            if case .streaming = self.state { self.state = .streaming(streaming) }
            return actions
        case .closed:
            return []
        }
    }

    /// A frame from the aggregator did not decode. Whatever the state, the agent answers `malformedFrame`
    /// (`frameTooLarge` for a length past the limit) and closes (PROTOCOL.md §3 rules 7–8): `badMagic` and
    /// `unsupportedVersion` are the aggregator's answers to a HELLO, never the agent's.
    mutating func receivedUndecodable(_ error: WireError) -> [Action] {
        if case .closed = self.state { return [] }
        let code: ErrorCode = error.frameErrorCode == .frameTooLarge ? .frameTooLarge : .malformedFrame
        let answer = Action.send(.error(ErrorMessage(code: code, message: "\(error)")))
        var greeting: String?
        if case .frameTooLarge(let length, _) = error {
            // Four printable ASCII bytes where a frame's length goes: a text protocol answered, not an aggregator.
            let bytes = (0..<4).map { UInt8(truncatingIfNeeded: length >> (24 - 8 * $0)) }
            if bytes.allSatisfy({ (0x20...0x7E).contains($0) }) { greeting = String(decoding: bytes, as: UTF8.self) }
        }
        return [answer]
            + self.close(
                .ended(
                    reason: "the aggregator sent a frame that does not decode: \(error)",
                    retryable: true,
                    foreignGreeting: greeting
                )
            )
    }

    /// The connection ended without GOODBYE: like a network failure (PROTOCOL.md §2 rule 6).
    mutating func connectionClosed() -> [Action] {
        if case .closed = self.state { return [] }
        return self.close(.ended(reason: "the aggregator closed the connection", retryable: true))
    }

    /// Nothing arrived from the aggregator for the silence timeout of the state (``handshakeSilenceTimeout``, then
    /// ``StreamingState/silenceTimeout``): it is gone, and the connection was closed.
    ///
    /// PROTOCOL.md §7.6 asks for ERROR `timeout` before the close; the agent sends none (the close is the read
    /// timeout handler's), as before this machine existed.
    mutating func silenceTimedOut() -> [Action] {
        let timeout: Duration
        switch self.state {
        case .closed: return []
        case .streaming(let streaming): timeout = streaming.silenceTimeout
        case .idle, .awaitingChallenge, .awaitingWelcome, .resuming: timeout = Self.handshakeSilenceTimeout
        }
        return self.close(
            .ended(reason: "nothing received from the aggregator for \(timeout.components.seconds) s", retryable: true)
        )
    }

    /// The hash of the agent's own batch at WELCOME's last sequence, nil when it no longer has that batch.
    mutating func resumeBatchFound(hash: Bytes32?, now: ContinuousClock.Instant) -> [Action] {
        guard case .resuming(let resuming) = self.state else { return [] }
        var actions: [Action] = []
        if let hash, hash != resuming.lastBatchHash {
            actions.append(.raiseResumeAlarm(sequence: resuming.lastSequence))
        }
        if resuming.deleteThrough > 0 { actions.append(.deleteSpooled(through: resuming.deleteThrough)) }
        return actions + self.open(resuming.session, now: now)
    }

    /// The sender looked at the spool as ``spoolRequest`` asked: load what the window has room for; when there is
    /// nothing to send, say GOODBYE if the agent is stopping and everything was acknowledged, else wait.
    mutating func spoolRead(_ snapshot: SpoolSnapshot) -> [Action] {
        guard case .streaming(let streaming) = self.state else { return [] }
        self.note(snapshot)
        let sendable = snapshot.sequences.filter { $0 > streaming.window.lastSent }.prefix(streaming.window.room)
        guard sendable.isEmpty else { return sendable.map { .loadBatch(sequence: $0) } }
        return self.goodbyeIfDrained() ?? [.waitForSpoolChange(after: snapshot.change)]
    }

    /// A batch asked for with ``Action/loadBatch(sequence:)`` was read: it goes out if the window still has room.
    mutating func batchLoaded(_ batch: SpooledBatch) -> [Action] {
        guard case .streaming(var streaming) = self.state, streaming.window.send(batch) else { return [] }
        self.state = .streaming(streaming)
        return [.sendBatch(batch)]
    }

    /// The agent is stopping. The connection goes on shipping what is spooled (the stop event included) until
    /// everything is acknowledged, then says GOODBYE (PROTOCOL.md §7.7 rule 1), or until the drain period is over.
    /// `spool` is a snapshot taken once the stop was known.
    mutating func shutdownRequested(spool: SpoolSnapshot, now: ContinuousClock.Instant) -> [Action] {
        if case .closed = self.state { return [] }
        guard self.drainDeadline == nil else { return [] }
        self.drainDeadline = now + self.configuration.drainPeriod
        self.note(spool)
        return self.goodbyeIfDrained() ?? []
    }

    /// Time passed: the drain period may be over, a HEARTBEAT may be due (PROTOCOL.md §7.6: the agent sends one
    /// every H seconds, which is at least as often as "when it has sent nothing for H seconds").
    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        if case .closed = self.state { return [] }
        if let deadline = self.drainDeadline, now >= deadline {
            return self.close(
                .ended(reason: "stopping before the spool was shipped; it ships on next start", retryable: true)
            )
        }
        guard case .streaming(var streaming) = self.state, now >= streaming.nextHeartbeat else { return [] }
        streaming.nextHeartbeat = now + streaming.heartbeatInterval
        self.state = .streaming(streaming)
        return [.sendHeartbeat]
    }

    // MARK: - Frames

    private mutating func challenged(_ challenge: Challenge) -> [Action] {
        // Shipping is the same in versions 1 and 2; an aggregator of either is served. Any other version gets
        // GOODBYE (§4.2) and needs a newer agent.
        guard (ProtocolVersion.first...ProtocolVersion.current).contains(challenge.version) else {
            let goodbye = Action.send(.goodbye(Goodbye(message: "version \(challenge.version) not supported")))
            return [goodbye]
                + self.close(
                    .ended(reason: "aggregator selected protocol version \(challenge.version)", retryable: false)
                )
        }
        self.state = .awaitingWelcome
        let message = Handshake.proofMessage(
            nonce: challenge.nonce,
            publicKey: self.configuration.publicKey,
            epoch: self.configuration.epoch
        )
        return [.sendProof(message: message)]
    }

    /// The resume decision (PROTOCOL.md §7.3).
    private mutating func welcomed(_ welcome: Welcome, now: ContinuousClock.Instant) -> [Action] {
        guard welcome.epoch == self.configuration.epoch else {
            return self.violation("WELCOME names epoch \(welcome.epoch), not \(self.configuration.epoch)")
        }
        guard welcome.lastSequence < self.configuration.nextSequence else {
            // The aggregator holds batches this agent never built: another machine uses this key, or the state was
            // restored from an old backup. Stop shipping this chain; an operator must look.
            let built = max(self.configuration.nextSequence, 1) - 1
            return self.close(
                .ended(
                    reason:
                        "aggregator holds sequence \(welcome.lastSequence) but this agent only built up to \(built)",
                    retryable: false
                )
            )
        }
        let heartbeat = Duration.seconds(welcome.heartbeatIntervalSeconds)
        // What the agent takes as stored: WELCOME's head, but never a batch the aggregator said it did not store.
        var stored = welcome.lastSequence
        var actions: [Action] = []
        if let unstored = self.configuration.resendFrom, unstored >= 1, unstored <= welcome.lastSequence {
            stored = unstored - 1
            actions.append(.resendingUnstored(from: unstored, head: welcome.lastSequence))
        }
        let session = StreamingState(
            epoch: welcome.epoch,
            window: InFlightWindow(size: Int(welcome.window), lastSent: stored),
            heartbeatInterval: heartbeat,
            nextHeartbeat: now + heartbeat
        )
        guard welcome.lastSequence > 0 else { return actions + self.open(session, now: now) }
        self.state = .resuming(
            ResumingState(
                session: session,
                lastSequence: welcome.lastSequence,
                lastBatchHash: welcome.lastBatchHash,
                deleteThrough: stored
            )
        )
        return actions + [.findResumeBatch(sequence: welcome.lastSequence)]
    }

    /// After WELCOME: ACKs match the window, HEARTBEATs are signs of life, anything else (but ERROR and GOODBYE)
    /// is unexpected.
    private mutating func receivedInSession(_ frame: Frame, session: inout StreamingState) -> [Action] {
        switch frame {
        case .ack(let ack):
            if let mismatch = session.window.acknowledge(ack, epoch: session.epoch) { return self.violation(mismatch) }
            return [.acknowledged(sequence: ack.sequence, status: ack.status)]
        case .heartbeat:
            return []
        default:
            return self.violation("unexpected \(frame.type)")
        }
    }

    // MARK: - Helpers

    private mutating func open(_ session: StreamingState, now: ContinuousClock.Instant) -> [Action] {
        var session = session
        session.nextHeartbeat = now + session.heartbeatInterval
        self.state = .streaming(session)
        return [.open(silenceTimeout: session.silenceTimeout)]
    }

    /// ERROR from the aggregator: retryable or not by its code (§4.8). A code this agent does not know (0, or one
    /// added later) is named by its number and is not retryable, as §4.8 says: the agent keeps spooling and
    /// reconnects slowly.
    private mutating func peerSentError(_ error: ErrorMessage) -> [Action] {
        let name = error.code.map { "\($0)" } ?? "\(error.rawCode)"
        let reason = "ERROR \(name) sequence \(error.sequence): \(error.message)"
        let unstored = error.code == .storageFailure && error.sequence > 0 ? error.sequence : nil
        return [.countErrorReceived]
            + self.close(
                .ended(
                    reason: reason,
                    retryable: error.code?.isRetryable ?? false,
                    refusal: error.code,
                    unstored: unstored
                )
            )
    }

    /// A frame that decodes but is not allowed now: ERROR `unexpectedFrame` (§3 rule 7, §7.2 rule 6), then close.
    private mutating func violation(_ what: String) -> [Action] {
        let answer = Action.send(.error(ErrorMessage(code: .unexpectedFrame, message: what)))
        return [answer] + self.close(.ended(reason: AgentError.protocolViolation(what).description, retryable: true))
    }

    private mutating func close(_ outcome: Outcome) -> [Action] {
        self.state = .closed(outcome)
        return [.close(outcome)]
    }

    /// GOODBYE once the agent is stopping, nothing is in flight and the newest snapshot shows an empty spool.
    private mutating func goodbyeIfDrained() -> [Action]? {
        guard self.drainDeadline != nil, case .streaming(let streaming) = self.state, streaming.window.isEmpty,
            self.spool?.batches == 0
        else { return nil }
        return [.send(.goodbye(Goodbye(message: Self.stoppingMessage)))] + self.close(.drained)
    }

    /// Keeps the newest snapshot: the sender's and the stop's are taken at different times and may arrive in
    /// either order.
    private mutating func note(_ snapshot: SpoolSnapshot) {
        if let known = self.spool, known.change > snapshot.change { return }
        self.spool = SpoolSnapshot(change: snapshot.change, batches: snapshot.batches, sequences: [])
    }

    // MARK: - Frame contents

    /// The agent's HEARTBEAT (PROTOCOL.md §4.7): its counters by name, as many as one HEARTBEAT carries.
    static func heartbeat(timeNanos: Int64, counters: [String: UInt64]) -> Heartbeat {
        let sorted = counters.sorted { $0.key < $1.key }.prefix(WireLimits.maxHeartbeatCounters)
        return Heartbeat(
            timeNanos: timeNanos,
            counters: sorted.map { Heartbeat.Counter(name: $0.key, value: $0.value) }
        )
    }
}

import Crypto
import FlightlogEvidence
import FlightlogStore
import FlightlogWire
import Logging
import NIOCore

/// The aggregator's side of one session (PROTOCOL.md §7) as a plain state machine: events in, actions out.
///
/// Every protocol decision is made here: which frame answers which, which ERROR code, when to close, the window,
/// the order of ACKs, what each state accepts and which version allows what. Nothing is done here: no channel, no
/// task, no clock (the time an event happened comes with it), no store (a store request is an ``Action`` whose
/// answer comes back as an event). ``Session`` feeds the events in and carries the actions out, in order. The timers
/// (handshake deadline, idle timeout, heartbeats) are ``SessionDeadlines``'s: they fire on the event loop, where the
/// channel's read state is known, even while the session's task waits.
///
/// ```
///  awaitingHello ─HELLO─► awaitingProof ─PROOF─► lookingUpAgent ─not enrolled─► lookingUpKeyHolder ─► refused
///                              │ ENROLL (v2)            │ enrolled
///                              ├─► checkingEnrolmentRate ─► redeemingToken ─ENROLLED─┐
///                              │ ROTATE (v2)                                         ▼
///                              └─► rotatingKey ─────────ROTATED────────────────► loadingHead
///                                                                                     ▼
///  closed ◄─ draining ◄─ streaming ◄─WELCOME─ recordingHandshake ◄────────────────────┘
///                          ▲   │ BATCH
///                          └── awaitingMemory
/// ```
///
/// Before WELCOME a refusal closes at once. After it, an ending waits in `draining` until every batch already handed
/// to the committer is acknowledged, and the ERROR or GOODBYE follows the ACKs (§7.5: batches acknowledged before the
/// ERROR stay stored); a commit that fails or is refused ends the session at once, after the ACKs before it.
struct SessionStateMachine {
    enum State {
        /// Nothing read yet.
        case awaitingHello
        /// CHALLENGE sent: PROOF, or in version 2 ENROLL or ROTATE, is next (§7.2 rule 3).
        case awaitingProof(Handshaking)
        /// ENROLL arrived: may the peer's address try a token now?
        case checkingEnrolmentRate(Handshaking, Enroll, atNanos: Int64)
        /// The proof verified: is the key enrolled?
        case lookingUpAgent(Handshaking)
        /// The key is not enrolled: was it ever, and replaced?
        case lookingUpKeyHolder(Handshaking)
        /// The enrolment signature verified: the store redeems the token.
        case redeemingToken(Handshaking, atNanos: Int64)
        /// The store checks and stores the rotation record.
        case rotatingKey(Handshaking, RotationRecord)
        /// The agent is admitted: where does its chain stand?
        case loadingHead(Handshaking, AgentRecord, BatchVerifier)
        /// The handshake is being recorded; WELCOME follows.
        case recordingHandshake(Handshaking, AgentRecord, BatchVerifier, ChainLink.Head?)
        /// WELCOME sent: batches in, ACKs out.
        case streaming(Streaming)
        /// A BATCH passed its envelope checks and waits for memory before it is decoded; nothing is read meanwhile.
        case awaitingMemory(Streaming, SignedBatch, bytes: Int)
        /// The session is ending with `Closing` once the ACKs still due are out; nothing is read.
        case draining(Streaming, Closing)
        /// The session is over.
        case closed
    }

    /// The last-seen time is written at most this often for heartbeats (the end of a session always writes it).
    static let touchIntervalNanos: Int64 = 60_000_000_000

    private(set) var state: State = .awaitingHello
    private let window: UInt16
    private let heartbeatIntervalSeconds: UInt16
    private let peer: String
    private let nonce: Bytes32

    /// A session for the connection from `peer`; `nonce` is the CHALLENGE's, fresh for every connection (§4.2).
    init(window: UInt16, heartbeatIntervalSeconds: UInt16, peer: String, nonce: Bytes32) {
        self.window = window
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.peer = peer
        self.nonce = nonce
    }

    // MARK: - Events

    /// The connection is open: HELLO is awaited.
    mutating func start() -> [Action] { [.readFrame] }

    /// A frame that decoded arrived at `now`.
    mutating func frameReceived(_ frame: Frame, at now: Int64) -> [Action] {
        switch self.state {
        case .awaitingHello: return self.awaitingHello(frame, at: now)
        case .awaitingProof(let handshaking): return self.awaitingProof(frame, handshaking, at: now)
        case .streaming(let streaming): return self.streaming(frame, streaming, at: now)
        case .closed: return []
        case .checkingEnrolmentRate, .lookingUpAgent, .lookingUpKeyHolder, .redeemingToken, .rotatingKey, .loadingHead,
            .recordingHandshake, .awaitingMemory, .draining:
            return self.internalError("a frame arrived that was not asked for")
        }
    }

    /// A frame did not decode (§3 rule 7). Decoding comes before the state is looked at (§3 rule 8): its code is the
    /// same in every state.
    mutating func frameUndecodable(_ error: WireError, at now: Int64) -> [Action] {
        let code = error.frameErrorCode
        let closing = Closing.error(ErrorMessage(code: code, message: "\(error)"), reason: "bad frame: \(error)")
        switch self.state {
        case .awaitingHello, .awaitingProof:
            self.state = .closed
            return [.count("frames_rejected.\(code)"), .close(closing)]
        case .streaming(let streaming):
            return [.count("frames_rejected.\(code)")] + self.end(streaming, closing, at: now)
        case .closed:
            return []
        case .checkingEnrolmentRate, .lookingUpAgent, .lookingUpKeyHolder, .redeemingToken, .rotatingKey, .loadingHead,
            .recordingHandshake, .awaitingMemory, .draining:
            return self.internalError("a frame arrived that was not asked for")
        }
    }

    /// The agent closed its side (or the aggregator stopped reading to shut down): at a frame boundary, so not an
    /// error (§3 rule 4). After WELCOME the ACKs due still go out, then GOODBYE (§7.7).
    mutating func peerClosed(at now: Int64) -> [Action] {
        switch self.state {
        case .awaitingHello:
            self.state = .closed
            return [.close(.silently(reason: "closed before HELLO"))]
        case .awaitingProof:
            self.state = .closed
            return [.close(.silently(reason: "closed before PROOF"))]
        case .streaming(let streaming):
            return self.end(streaming, .goodbye, at: now)
        case .checkingEnrolmentRate, .lookingUpAgent, .lookingUpKeyHolder, .redeemingToken, .rotatingKey, .loadingHead,
            .recordingHandshake, .awaitingMemory, .draining, .closed:
            return []
        }
    }

    /// The enrolment limiter's answer to ``Action/checkEnrolmentRate(atNanos:)``.
    mutating func enrolmentRateChecked(allowed: Bool) -> [Action] {
        guard case .checkingEnrolmentRate(let handshaking, let enroll, let at) = self.state else {
            return self.internalError("an enrolment rate nobody asked for")
        }
        guard allowed else {
            var record = handshaking.record
            record.outcome = "rateLimited"
            self.state = .closed
            return [
                .count("enrolment_rate_limited"), .note(.handshake(record)),
                .close(
                    .error(
                        ErrorMessage(
                            code: .rateLimited,
                            message: "too many failed enrolments from this address; retry in a minute"
                        ),
                        reason: "enrolment rate-limited"
                    )
                ),
            ]
        }
        // The signature proves the key of HELLO as PROOF does (§4.10), before the token is looked up.
        let hello = handshaking.hello
        let message = Handshake.enrolmentMessage(
            nonce: self.nonce,
            publicKey: hello.publicKey,
            epoch: hello.epoch,
            token: enroll.token
        )
        guard Self.verifies(enroll.signature, message, by: hello.publicKey) else {
            return self.refuseEnrolment(
                handshaking,
                .badProof,
                "the enrolment signature does not verify",
                counter: "badProof",
                at: at
            )
        }
        self.state = .redeemingToken(handshaking, atNanos: at)
        return [.ask(.redeem(token: enroll.token, publicKey: hello.publicKey, peer: self.peer, atNanos: at))]
    }

    /// The store's answer to the ``Action/ask(_:)`` of the current state, at `now`.
    mutating func storeAnswered(_ answer: StoreAnswer, at now: Int64) -> [Action] {
        switch (self.state, answer) {
        case (.lookingUpAgent(let handshaking), .agent(nil)):
            self.state = .lookingUpKeyHolder(handshaking)
            return [.ask(.keyHolder(publicKey: handshaking.hello.publicKey))]
        case (.lookingUpAgent(let handshaking), .agent(let agent?)):
            return self.admit(agent, handshaking)
        case (.lookingUpKeyHolder(let handshaking), .keyHolder(let holder)):
            // A key that was rotated out or replaced by a re-enrolment is named as such.
            if let holder, let until = holder.untilNanos {
                return self.refuse(
                    handshaking,
                    .revokedAgent,
                    "this key was \(holder.name)'s until \(Timestamp.rfc3339(until)) and was replaced: use the new key"
                )
            }
            return self.refuse(handshaking, .unknownAgent, "this key is not enrolled")
        case (.redeemingToken(let handshaking, _), .redeemed(.success(let agent))):
            let enrolled: [Action] = [
                .count("enrolments"),
                .log(
                    LogLine(
                        level: .notice,
                        message: "Agent enrolled with a token",
                        metadata: ["agent.name": agent.name]
                    )
                ),
                .send(.enrolled(Enrolled(agentName: agent.name))),
            ]
            return enrolled + self.admit(agent, handshaking)
        case (.redeemingToken(let handshaking, let at), .redeemed(.failure(let refusal))):
            return self.refuseEnrolment(handshaking, .badToken, "\(refusal)", counter: refusal.counterName, at: at)
        case (.rotatingKey(var handshaking, let rotation), .rotated(.success(let agent))):
            // The session goes on under the new key and in the new epoch (§4.12).
            handshaking.record.publicKey = rotation.newPublicKey
            handshaking.record.epoch = rotation.newEpoch
            handshaking.epoch = rotation.newEpoch
            let rotated: [Action] = [
                .count("rotations"),
                .log(
                    LogLine(
                        level: .notice,
                        message: "Agent key rotated",
                        metadata: ["agent.name": agent.name, "chain.epoch": "\(rotation.newEpoch)"]
                    )
                ),
                .send(.rotated(Rotated(newPublicKey: rotation.newPublicKey, newEpoch: rotation.newEpoch))),
            ]
            return rotated + self.admit(agent, handshaking)
        case (.rotatingKey(let handshaking, _), .rotated(.failure(let refusal))):
            return self.refuseRotation(handshaking, refusal.reason)
        case (.loadingHead(let handshaking, let agent, let verifier), .chainHead(let head)):
            self.state = .recordingHandshake(handshaking, agent, verifier, head)
            return [.ask(.recordHandshake(handshaking.record))]
        case (.recordingHandshake(let handshaking, let agent, let verifier, let head), .handshakeRecorded):
            return self.welcome(handshaking, agent, verifier, head, at: now)
        default:
            return self.internalError("the store answered a question the session did not ask")
        }
    }

    /// The store failed to answer the current state's ``Action/ask(_:)``.
    mutating func storeFailed(_ reason: String) -> [Action] {
        switch self.state {
        case .lookingUpKeyHolder(let handshaking):
            // Only the wording of the refusal depends on the key's history: without it the key is not enrolled.
            return self.refuse(handshaking, .unknownAgent, "this key is not enrolled")
        case .lookingUpAgent, .redeemingToken, .rotatingKey, .loadingHead, .recordingHandshake:
            self.state = .closed
            return [.close(.error(ErrorMessage(code: .storageFailure, message: "store unavailable"), reason: reason))]
        case .awaitingHello, .awaitingProof, .checkingEnrolmentRate, .streaming, .awaitingMemory, .draining, .closed:
            return self.internalError("the store failed a question the session did not ask")
        }
    }

    /// The answer to ``Action/reserveMemory(bytes:)``: false when the aggregator is shutting down.
    mutating func memoryReserved(_ granted: Bool, at now: Int64) -> [Action] {
        guard case .awaitingMemory(var streaming, let batch, let bytes) = self.state else { return [] }
        guard granted else {
            return self.end(
                streaming,
                .error(
                    ErrorMessage(code: .shuttingDown, message: "the aggregator is shutting down"),
                    reason: "shutting down"
                ),
                at: now
            )
        }
        switch streaming.verifier.decode(batch) {
        case .failure(let rejection):
            return [.releaseMemory(bytes: bytes)] + self.reject(rejection, streaming, at: now)
        case .success(let layout):
            let item = IngestItem(agentID: streaming.agent.id, batch: batch, layout: layout, receivedNanos: now)
            let ticket = streaming.handOver(batch)
            self.state = .streaming(streaming)
            // The reservation bounded the decoding; the queue then holds what the decoded batch really takes (a third
            // of the estimate for ~120-byte syslog lines), so that its budget counts batches as they are.
            let held = min(bytes, item.retainedBytes)
            let surplus: [Action] = held < bytes ? [.releaseMemory(bytes: bytes - held)] : []
            return surplus + [.count("batches_decoded"), .enqueue(item, bytes: held, ticket: ticket), .readFrame]
        }
    }

    /// The commit holding the batch of `ticket` finished at `now` (in any order across batches): the ACKs now due go
    /// out in arrival order.
    mutating func commitFinished(
        ticket: Int,
        _ outcome: Result<IngestOutcome, AggregatorError>,
        at now: Int64
    ) -> [Action] {
        switch self.state {
        case .streaming(var streaming):
            let (actions, closing) = streaming.settle(ticket: ticket, outcome)
            if let closing { return actions + self.abort(closing) }
            self.state = .streaming(streaming)
            return actions
        case .awaitingMemory(var streaming, let batch, let bytes):
            let (actions, closing) = streaming.settle(ticket: ticket, outcome)
            if let closing { return actions + self.abort(closing) }
            self.state = .awaitingMemory(streaming, batch, bytes: bytes)
            return actions
        case .draining(var streaming, let ending):
            let (actions, closing) = streaming.settle(ticket: ticket, outcome)
            if let closing { return actions + self.abort(closing) }
            return actions + self.end(streaming, ending, at: now)
        case .awaitingHello, .awaitingProof, .checkingEnrolmentRate, .lookingUpAgent, .lookingUpKeyHolder,
            .redeemingToken, .rotatingKey, .loadingHead, .recordingHandshake, .closed:
            return []
        }
    }

    // MARK: - Handshake

    private mutating func awaitingHello(_ frame: Frame, at now: Int64) -> [Action] {
        switch frame {
        case .hello(let hello):
            let handshaking = Handshaking(hello: hello, atNanos: now, peer: self.peer)
            self.state = .awaitingProof(handshaking)
            let challenge = Challenge(version: handshaking.version, nonce: self.nonce, aggregatorTimeNanos: now)
            return [.send(.challenge(challenge)), .readFrame]
        case .error, .goodbye:
            return self.agentEndedHandshake(frame)
        case .challenge, .proof, .welcome, .batch, .ack, .heartbeat, .enroll, .enrolled, .rotate, .rotated:
            self.state = .closed
            return [
                .close(.error(ErrorMessage(code: .unexpectedFrame, message: "expected HELLO"), reason: "no HELLO"))
            ]
        }
    }

    private mutating func awaitingProof(_ frame: Frame, _ handshaking: Handshaking, at now: Int64) -> [Action] {
        let hello = handshaking.hello
        switch frame {
        case .proof(let proof):
            // The proof first, then enrolment (§7.2 rule 4): only the holder of a key learns its status.
            let message = Handshake.proofMessage(nonce: self.nonce, publicKey: hello.publicKey, epoch: hello.epoch)
            guard Self.verifies(proof.signature, message, by: hello.publicKey) else {
                return self.refuse(handshaking, .badProof, "the proof signature does not verify")
            }
            self.state = .lookingUpAgent(handshaking)
            return [.ask(.agent(publicKey: hello.publicKey))]
        case .enroll(let enroll) where handshaking.allowsEnrolmentAndRotation:
            self.state = .checkingEnrolmentRate(handshaking, enroll, atNanos: now)
            return [.checkEnrolmentRate(atNanos: now)]
        case .rotate(let rotation) where handshaking.allowsEnrolmentAndRotation:
            guard rotation.oldPublicKey == hello.publicKey, rotation.oldEpoch == hello.epoch else {
                return self.refuseRotation(handshaking, "the rotation must name the key and epoch of HELLO")
            }
            self.state = .rotatingKey(handshaking, rotation)
            return [.ask(.rotate(rotation, atNanos: now))]
        case .error, .goodbye:
            return self.agentEndedHandshake(frame)
        case .hello, .challenge, .welcome, .batch, .ack, .heartbeat, .enroll, .enrolled, .rotate, .rotated:
            self.state = .closed
            return [
                .close(.error(ErrorMessage(code: .unexpectedFrame, message: "expected PROOF"), reason: "no PROOF"))
            ]
        }
    }

    /// ERROR and GOODBYE are allowed at any point and end the session (§7.2 rule 6): no reply, only a close.
    private mutating func agentEndedHandshake(_ frame: Frame) -> [Action] {
        self.state = .closed
        if case .error(let error) = frame {
            return [.close(.silently(reason: "agent sent ERROR \(error.rawCode) during the handshake"))]
        }
        return [.close(.silently(reason: "agent said goodbye during the handshake"))]
    }

    /// The agent is known (by PROOF, ENROLL or ROTATE): its key must be one Flightlog accepts and not revoked; then
    /// the resume point is looked up.
    private mutating func admit(_ agent: AgentRecord, _ handshaking: Handshaking) -> [Action] {
        guard let key = try? Ed25519.publicKey(agent.publicKey.bytes) else {
            return self.refuse(handshaking, .badProof, "the enrolled key is not a key Flightlog accepts")
        }
        var handshaking = handshaking
        handshaking.record.agentID = agent.id
        guard agent.revokedNanos == nil else {
            return self.refuse(handshaking, .revokedAgent, "this key was revoked")
        }
        let verifier = BatchVerifier(publicKey: key, epoch: handshaking.epoch)
        self.state = .loadingHead(handshaking, agent, verifier)
        return [.ask(.chainHead(agentID: agent.id, epoch: handshaking.epoch))]
    }

    private mutating func welcome(
        _ handshaking: Handshaking,
        _ agent: AgentRecord,
        _ verifier: BatchVerifier,
        _ head: ChainLink.Head?,
        at now: Int64
    ) -> [Action] {
        self.state = .streaming(Streaming(agent: agent, verifier: verifier, window: Int(self.window)))
        let welcome = Welcome(
            epoch: handshaking.epoch,
            lastSequence: head?.sequence ?? 0,
            lastBatchHash: head?.hash ?? .zero,
            window: self.window,
            heartbeatIntervalSeconds: self.heartbeatIntervalSeconds,
            aggregatorTimeNanos: now
        )
        return [
            .claimSession(agentID: agent.id), .send(.welcome(welcome)), .count("handshakes_accepted"),
            .log(
                LogLine(
                    level: .info,
                    message: "Agent connected",
                    metadata: [
                        "agent.name": agent.name, "chain.epoch": "\(handshaking.epoch)",
                        "chain.head": "\(head?.sequence ?? 0)",
                        "agent.skew_ms": "\(handshaking.record.skewNanos.map { $0 / 1_000_000 } ?? 0)",
                    ]
                )
            ),
            .readFrame,
        ]
    }

    /// A refused handshake: counted, recorded, logged with the name the agent gave and its key (so that an operator
    /// can find the host), answered with its ERROR.
    private mutating func refuse(_ handshaking: Handshaking, _ code: ErrorCode, _ message: String) -> [Action] {
        var record = handshaking.record
        record.outcome = "\(code)"
        self.state = .closed
        return [
            .count("handshakes_rejected.\(code)"), .note(.handshake(record)),
            .log(
                LogLine(
                    level: .warning,
                    message: "Handshake refused: \(message)",
                    metadata: [
                        "handshake.code": "\(code)", "agent.claimed_name": handshaking.hello.agentName,
                        "agent.key_id": KeyID.of(publicKeyBytes: handshaking.hello.publicKey).hex,
                    ]
                )
            ),
            .close(.error(ErrorMessage(code: code, message: message), reason: "handshake refused: \(code)")),
        ]
    }

    /// A refused ENROLL (§4.10): counted against the peer's address too.
    private mutating func refuseEnrolment(
        _ handshaking: Handshaking,
        _ code: ErrorCode,
        _ message: String,
        counter: String,
        at: Int64
    ) -> [Action] {
        var record = handshaking.record
        record.outcome = "\(code)"
        self.state = .closed
        return [
            .count("enrolments_refused.\(counter)"), .countFailedEnrolment(atNanos: at), .note(.handshake(record)),
            .log(LogLine(level: .warning, message: "Enrolment refused", metadata: ["enrolment.reason": message])),
            .close(.error(ErrorMessage(code: code, message: message), reason: "enrolment refused: \(message)")),
        ]
    }

    /// A refused ROTATE (§4.12).
    private mutating func refuseRotation(_ handshaking: Handshaking, _ message: String) -> [Action] {
        var record = handshaking.record
        record.outcome = "rotationRefused"
        self.state = .closed
        return [
            .count("rotations_refused"), .note(.handshake(record)),
            .log(LogLine(level: .warning, message: "Key rotation refused", metadata: ["rotation.reason": message])),
            .close(
                .error(ErrorMessage(code: .rotationRefused, message: message), reason: "rotation refused: \(message)")
            ),
        ]
    }

    /// Whether `signature` over `message` verifies under `publicKey` as §1.1 says: a key of small order or not
    /// canonically encoded fails, whatever the signature (with one, a proof needs no private key).
    private static func verifies(_ signature: [UInt8], _ message: [UInt8], by publicKey: Bytes32) -> Bool {
        guard let key = try? Ed25519.publicKey(publicKey.bytes) else { return false }
        return Ed25519.isValidSignature(signature, for: message, publicKey: key)
    }

    // MARK: - Batches and acks

    private mutating func streaming(_ frame: Frame, _ streaming: Streaming, at now: Int64) -> [Action] {
        switch frame {
        case .batch(let body):
            return self.batchArrived(body, streaming, at: now)
        case .heartbeat(let heartbeat):
            var streaming = streaming
            var actions: [Action] = []
            if !heartbeat.counters.isEmpty {
                actions.append(.report(agent: streaming.agent.name, heartbeat, atNanos: now))
            }
            if now.subtractingSaturating(streaming.lastTouchNanos) > Self.touchIntervalNanos {
                streaming.lastTouchNanos = now
                actions.append(.note(.touch(agentID: streaming.agent.id, atNanos: now)))
            }
            self.state = .streaming(streaming)
            return actions + [.readFrame]
        case .goodbye(let goodbye):
            let log = LogLine(
                level: .info,
                message: "Agent said goodbye",
                metadata: ["agent.name": streaming.agent.name, "reason": goodbye.message]
            )
            return [.log(log)] + self.end(streaming, .goodbye, at: now)
        case .error(let error):
            let log = LogLine(
                level: .info,
                message: "Agent sent an error",
                metadata: ["agent.name": streaming.agent.name, "code": "\(error.rawCode)", "message": error.message]
            )
            // Every ERROR is fatal (§4.8): the receiver closes, and answers nothing, not even GOODBYE.
            return [.log(log)] + self.end(streaming, .silently(reason: "agent sent ERROR \(error.rawCode)"), at: now)
        case .hello, .challenge, .proof, .welcome, .ack, .enroll, .enrolled, .rotate, .rotated:
            return self.end(
                streaming,
                .error(
                    ErrorMessage(code: .unexpectedFrame, message: "\(frame.type) is not allowed after WELCOME"),
                    reason: "unexpected \(frame.type)"
                ),
                at: now
            )
        }
    }

    private mutating func batchArrived(_ body: ByteBuffer, _ streaming: Streaming, at now: Int64) -> [Action] {
        let received: Action = .count("bytes_received", Int64(body.readableBytes))
        guard !streaming.windowIsFull else {
            // The ERROR names the batch that exceeded the window, by the rule of §7.5 (§7.4 rule 1).
            let closing = Closing.error(
                ErrorMessage(
                    code: .windowExceeded,
                    sequence: SignedBatch.sequence(namedBy: body),
                    message: "more than \(streaming.window) batches unacknowledged"
                ),
                reason: "window exceeded"
            )
            return [received, .count("window_exceeded")] + self.end(streaming, closing, at: now)
        }
        // The envelope and signature first; then memory for the decoded batch is reserved (waiting, with only the
        // compressed frame held, while the database is behind); then the payload.
        switch streaming.verifier.check(body) {
        case .failure(let rejection):
            return [received] + self.reject(rejection, streaming, at: now)
        case .success(let batch):
            let bytes = GroupCommitter.estimatedBytes(batch)
            self.state = .awaitingMemory(streaming, batch, bytes: bytes)
            return [received, .reserveMemory(bytes: bytes)]
        }
    }

    /// A batch that failed a check of §7.5 before the store: recorded as a finding, answered with its code and the
    /// sequence it names.
    private mutating func reject(
        _ rejection: BatchVerifier.Rejection,
        _ streaming: Streaming,
        at now: Int64
    ) -> [Action] {
        let finding = ChainFinding(
            kind: .rejectedBatch,
            agentID: streaming.agent.id,
            epoch: streaming.verifier.epoch,
            fromSequence: rejection.sequence,
            toSequence: rejection.sequence,
            detail: "\(rejection.code): \(rejection.message)",
            atNanos: now
        )
        let closing = Closing.error(
            ErrorMessage(code: rejection.code, sequence: rejection.sequence, message: rejection.message),
            reason: "batch rejected: \(rejection.code)"
        )
        return [.count("batches_rejected.\(rejection.code)"), .note(.finding(finding))]
            + self.end(streaming, closing, at: now)
    }

    /// Ends the session after WELCOME: at once when no ACK is due, else once the due ACKs are out (`draining`).
    private mutating func end(_ streaming: Streaming, _ closing: Closing, at now: Int64) -> [Action] {
        guard streaming.unacked.isEmpty else {
            self.state = .draining(streaming, closing)
            return []
        }
        self.state = .closed
        return [.note(.touch(agentID: streaming.agent.id, atNanos: now)), .close(closing)]
    }

    /// Ends the session at once: a commit failed or was refused, and the ACKs after it will not be sent.
    private mutating func abort(_ closing: Closing) -> [Action] {
        self.state = .closed
        return [.close(closing)]
    }

    private mutating func internalError(_ reason: String) -> [Action] {
        self.state = .closed
        return [.close(.error(ErrorMessage(code: .internalError, message: "internal error"), reason: reason))]
    }
}

extension EnrolmentRefusal {
    /// The suffix of its `enrolments_refused.*` counter.
    fileprivate var counterName: String {
        switch self {
        case .unknownToken: "unknown"
        case .expired: "expired"
        case .used: "used"
        case .revoked: "revoked"
        case .nameTaken: "name_taken"
        case .keyEnrolled: "key_enrolled"
        case .badKey: "bad_key"
        }
    }
}

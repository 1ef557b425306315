import Crypto
import FlightlogEvidence
import FlightlogStore
import FlightlogWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One agent connection: handshake, then batches in and acks out, until either side ends it (PROTOCOL.md §7).
struct Session {
    let channel: NIOAsyncChannel<Frame, Frame>
    let store: any EvidenceStore
    let committer: GroupCommitter
    let metrics: AggregatorMetrics
    let configuration: AggregatorConfiguration
    var logger: Logger
    let peer: String
    /// The peer's address without its port: what failed enrolments are counted by.
    let peerHost: String
    let enrolments: EnrolmentLimiter

    /// Why a session ended early; carries the error frame to send when there is one.
    private struct End: Error {
        var frame: ErrorMessage?
        var reason: String
    }

    private struct Established {
        var agent: AgentRecord
        var verifier: BatchVerifier
    }

    private struct PendingAck: Sendable {
        var epoch: UInt64
        var sequence: UInt64
        var hash: Bytes32
        var eventCount: Int
        var outcome: EventLoopFuture<IngestOutcome>
    }

    func run() async {
        do {
            try await self.channel.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                do {
                    let session = try await self.handshake(frames: &frames, outbound: outbound)
                    try await self.serve(session, frames: &frames, outbound: outbound)
                } catch let end as End {
                    self.logger.info("Closing connection", metadata: ["reason": "\(end.reason)"])
                    if let frame = end.frame {
                        await self.send(frame, outbound)
                    }
                }
            }
        } catch let error where TLSFailure(error) != nil {
            let failure = TLSFailure(error) ?? .other("")
            self.metrics.add("tls_failures.\(failure.counter)")
            self.logger.warning("TLS handshake with an agent failed", metadata: ["tls.cause": "\(failure)"])
        } catch {
            self.logger.info("Connection ended with an error", metadata: ["error": "\(error)"])
        }
        self.metrics.add("connections_active", -1)
    }

    // MARK: - Handshake

    private func next(
        _ frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator,
        sequence: UInt64 = 0
    ) async throws -> Frame? {
        do {
            return try await frames.next()
        } catch let error as WireError {
            // Decoded before the state is looked at (§3 rule 7): a frame that does not decode gets its decoding
            // code whatever the session expected.
            let code = error.frameErrorCode
            self.metrics.add("frames_rejected.\(code)")
            throw End(
                frame: ErrorMessage(code: code, sequence: sequence, message: "\(error)"),
                reason: "bad frame: \(error)"
            )
        }
    }

    /// ERROR and GOODBYE are allowed at any point and end the session (PROTOCOL.md §7.2): no reply, only a close.
    private static func endIfTheAgentEnded(_ frame: Frame) throws {
        switch frame {
        case .error(let error): throw End(frame: nil, reason: "agent sent ERROR \(error.rawCode) during the handshake")
        case .goodbye: throw End(frame: nil, reason: "agent said goodbye during the handshake")
        default: return
        }
    }

    private func handshake(
        frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws -> Established {
        guard let first = try await self.next(&frames) else { throw End(frame: nil, reason: "closed before HELLO") }
        try Self.endIfTheAgentEnded(first)
        guard case .hello(let hello) = first else {
            throw End(frame: ErrorMessage(code: .unexpectedFrame, message: "expected HELLO"), reason: "no HELLO")
        }
        let helloNanos = WallClock.nowNanos()
        let version = min(hello.version, ProtocolVersion.current)
        var nonceBytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for index in nonceBytes.indices { nonceBytes[index] = rng.next() }
        let nonce = Bytes32(nonceBytes) ?? .zero
        try await outbound.write(.challenge(Challenge(version: version, nonce: nonce, aggregatorTimeNanos: helloNanos)))

        guard let second = try await self.next(&frames) else { throw End(frame: nil, reason: "closed before PROOF") }
        try Self.endIfTheAgentEnded(second)
        var record = HandshakeRecord(
            atNanos: helloNanos,
            peer: self.peer,
            publicKey: hello.publicKey,
            agentID: nil,
            agentName: hello.agentName,
            epoch: hello.epoch,
            // Any i64 is a legal agent clock (§4.1) and skew never refuses a session (§7.2.7): saturate, never trap.
            skewNanos: hello.agentTimeNanos.subtractingSaturating(helloNanos),
            outcome: "accepted"
        )
        func refuse(_ code: ErrorCode, _ message: String) async throws -> Never {
            record.outcome = "\(code)"
            self.metrics.add("handshakes_rejected.\(code)")
            try? await self.store.recordHandshake(record)
            // The cause in words, with the name the agent gave and its key, so that an operator can find the host.
            self.logger.warning(
                "Handshake refused: \(message)",
                metadata: [
                    "handshake.code": "\(code)", "agent.claimed_name": "\(hello.agentName)",
                    "agent.key_id": "\(KeyID.of(publicKeyBytes: hello.publicKey).hex)",
                ]
            )
            throw End(frame: ErrorMessage(code: code, message: message), reason: "handshake refused: \(code)")
        }
        func storeFailed(_ error: any Error) -> End {
            End(frame: ErrorMessage(code: .storageFailure, message: "store unavailable"), reason: "\(error)")
        }
        // PROOF (§4.3), or in version 2 ENROLL (§4.10) or ROTATE (§4.12) in its place.
        var epoch = hello.epoch
        let agent: AgentRecord
        switch second {
        case .proof(let proof):
            let message = Handshake.proofMessage(nonce: nonce, publicKey: hello.publicKey, epoch: hello.epoch)
            // A key of small order or non-canonical encoding fails here too: with one, a proof needs no private key.
            guard let key = try? Ed25519.publicKey(hello.publicKey.bytes),
                Ed25519.isValidSignature(proof.signature, for: message, publicKey: key)
            else {
                try await refuse(.badProof, "the proof signature does not verify")
            }
            let found: AgentRecord?
            do {
                found = try await self.store.agent(publicKey: hello.publicKey)
            } catch {
                throw storeFailed(error)
            }
            guard let found else {
                // A key that was rotated out or replaced by a re-enrolment is named as such.
                if let holder = try? await self.store.keyHolder(publicKey: hello.publicKey),
                    let until = holder.untilNanos
                {
                    try await refuse(
                        .revokedAgent,
                        "this key was \(holder.name)'s until \(Timestamp.rfc3339(until)) and was replaced: use the new key"
                    )
                }
                try await refuse(.unknownAgent, "this key is not enrolled")
            }
            agent = found
        case .enroll(let enroll) where version >= 2:
            agent = try await self.enrol(enroll, hello: hello, nonce: nonce, record: &record, outbound: outbound)
        case .rotate(let rotation) where version >= 2:
            agent = try await self.rotate(rotation, hello: hello, record: &record, outbound: outbound)
            epoch = rotation.newEpoch
        default:
            throw End(frame: ErrorMessage(code: .unexpectedFrame, message: "expected PROOF"), reason: "no PROOF")
        }
        guard let key = try? Ed25519.publicKey(agent.publicKey.bytes) else {
            try await refuse(.badProof, "the enrolled key is not a key Flightlog accepts")
        }
        record.agentID = agent.id
        guard agent.revokedNanos == nil else { try await refuse(.revokedAgent, "this key was revoked") }
        let head: ChainLink.Head?
        do {
            head = try await self.store.chainHead(agentID: agent.id, epoch: epoch)
            try await self.store.recordHandshake(record)
        } catch {
            throw storeFailed(error)
        }
        try await outbound.write(
            .welcome(
                Welcome(
                    epoch: epoch,
                    lastSequence: head?.sequence ?? 0,
                    lastBatchHash: head?.hash ?? .zero,
                    window: self.configuration.window,
                    heartbeatIntervalSeconds: self.configuration.heartbeatIntervalSeconds,
                    aggregatorTimeNanos: WallClock.nowNanos()
                )
            )
        )
        self.metrics.add("handshakes_accepted")
        self.logger.info(
            "Agent connected",
            metadata: [
                "agent.name": "\(agent.name)", "chain.epoch": "\(epoch)",
                "chain.head": "\(head?.sequence ?? 0)",
                "agent.skew_ms": "\(record.skewNanos.map { $0 / 1_000_000 } ?? 0)",
            ]
        )
        return Established(agent: agent, verifier: BatchVerifier(publicKey: key, epoch: epoch))
    }

    /// ENROLL (§4.10): the signature proves the key of HELLO, the token enrols it; ENROLLED, then the session goes
    /// on as after a PROOF. Failures are counted per address, past a limit answered `rateLimited` unlooked.
    private func enrol(
        _ enroll: Enroll,
        hello: Hello,
        nonce: Bytes32,
        record: inout HandshakeRecord,
        outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws -> AgentRecord {
        let now = WallClock.nowNanos()
        func refuse(_ code: ErrorCode, _ message: String, counter: String) async throws -> Never {
            record.outcome = "\(code)"
            self.metrics.add("enrolments_refused.\(counter)")
            self.enrolments.fail(self.peerHost, nowNanos: now)
            try? await self.store.recordHandshake(record)
            self.logger.warning("Enrolment refused", metadata: ["enrolment.reason": "\(message)"])
            throw End(frame: ErrorMessage(code: code, message: message), reason: "enrolment refused: \(message)")
        }
        guard self.enrolments.allows(self.peerHost, nowNanos: now) else {
            self.metrics.add("enrolment_rate_limited")
            record.outcome = "rateLimited"
            try? await self.store.recordHandshake(record)
            throw End(
                frame: ErrorMessage(
                    code: .rateLimited,
                    message: "too many failed enrolments from this address; retry in a minute"
                ),
                reason: "enrolment rate-limited"
            )
        }
        let message = Handshake.enrolmentMessage(
            nonce: nonce,
            publicKey: hello.publicKey,
            epoch: hello.epoch,
            token: enroll.token
        )
        guard let key = try? Ed25519.publicKey(hello.publicKey.bytes),
            Ed25519.isValidSignature(enroll.signature, for: message, publicKey: key)
        else {
            try await refuse(.badProof, "the enrolment signature does not verify", counter: "badProof")
        }
        let outcome: Result<AgentRecord, EnrolmentRefusal>
        do {
            outcome = try await self.store.redeem(
                token: enroll.token,
                publicKey: hello.publicKey,
                peer: self.peer,
                atNanos: now
            )
        } catch {
            throw End(frame: ErrorMessage(code: .storageFailure, message: "store unavailable"), reason: "\(error)")
        }
        switch outcome {
        case .success(let agent):
            self.metrics.add("enrolments")
            self.logger.notice("Agent enrolled with a token", metadata: ["agent.name": "\(agent.name)"])
            try await outbound.write(.enrolled(Enrolled(agentName: agent.name)))
            return agent
        case .failure(let refusal):
            let counter: String
            switch refusal {
            case .unknownToken: counter = "unknown"
            case .expired: counter = "expired"
            case .used: counter = "used"
            case .revoked: counter = "revoked"
            case .nameTaken: counter = "name_taken"
            case .keyEnrolled: counter = "key_enrolled"
            case .badKey: counter = "bad_key"
            }
            try await refuse(.badToken, "\(refusal)", counter: counter)
        }
    }

    /// ROTATE (§4.12): the record names the key and epoch of HELLO; the store checks it against the chain and
    /// makes the new key the agent's. ROTATED, then the session goes on under the new key and epoch.
    private func rotate(
        _ rotation: RotationRecord,
        hello: Hello,
        record: inout HandshakeRecord,
        outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws -> AgentRecord {
        func refuse(_ message: String) async throws -> Never {
            record.outcome = "rotationRefused"
            self.metrics.add("rotations_refused")
            try? await self.store.recordHandshake(record)
            self.logger.warning("Key rotation refused", metadata: ["rotation.reason": "\(message)"])
            throw End(
                frame: ErrorMessage(code: .rotationRefused, message: message),
                reason: "rotation refused: \(message)"
            )
        }
        guard rotation.oldPublicKey == hello.publicKey, rotation.oldEpoch == hello.epoch else {
            try await refuse("the rotation must name the key and epoch of HELLO")
        }
        let outcome: Result<AgentRecord, RotationRefusal>
        do {
            outcome = try await self.store.rotate(rotation, atNanos: WallClock.nowNanos())
        } catch {
            throw End(frame: ErrorMessage(code: .storageFailure, message: "store unavailable"), reason: "\(error)")
        }
        switch outcome {
        case .success(let agent):
            self.metrics.add("rotations")
            self.logger.notice(
                "Agent key rotated",
                metadata: ["agent.name": "\(agent.name)", "chain.epoch": "\(rotation.newEpoch)"]
            )
            record.publicKey = rotation.newPublicKey
            record.epoch = rotation.newEpoch
            try await outbound.write(
                .rotated(Rotated(newPublicKey: rotation.newPublicKey, newEpoch: rotation.newEpoch))
            )
            return agent
        case .failure(let refusal):
            try await refuse(refusal.reason)
        }
    }

    // MARK: - Batches and acks

    /// Counts and writes an ERROR frame; a peer that already left is not an error of ours.
    private func send(_ frame: ErrorMessage, _ outbound: NIOAsyncChannelOutboundWriter<Frame>) async {
        self.metrics.add("errors_sent.\(frame.code.map { "\($0)" } ?? "\(frame.rawCode)")")
        try? await outbound.write(.error(frame))
    }

    /// Sends `frame` and closes the channel at once, so that a reader waiting for the next frame wakes up; used by
    /// the ack task, which cannot end the reading loop otherwise.
    private func abort(
        _ outbound: NIOAsyncChannelOutboundWriter<Frame>,
        _ frame: ErrorMessage,
        reason: String
    ) async throws -> Never {
        await self.send(frame, outbound)
        try? await self.channel.channel.close()
        throw End(frame: nil, reason: reason)
    }

    private func serve(
        _ session: Established,
        frames: inout NIOAsyncChannelInboundStream<Frame>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws {
        var logger = self.logger
        logger[metadataKey: "agent.name"] = "\(session.agent.name)"
        let outstanding = NIOLockedValueBox(0)
        let (acks, ackSink) = AsyncStream.makeStream(of: PendingAck.self)
        let window = Int(self.configuration.window)
        let metrics = self.metrics
        let agentID = session.agent.id
        let store = self.store

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await pending in acks {
                    let outcome: IngestOutcome
                    do {
                        outcome = try await pending.outcome.get()
                    } catch {
                        try await self.abort(
                            outbound,
                            ErrorMessage(
                                code: .storageFailure,
                                sequence: pending.sequence,
                                message: "not stored, resend later"
                            ),
                            reason: "\(error)"
                        )
                    }
                    switch outcome {
                    case .stored, .duplicate:
                        let status: Ack.Status = outcome == .stored ? .stored : .duplicate
                        try await outbound.write(
                            .ack(
                                Ack(
                                    epoch: pending.epoch,
                                    sequence: pending.sequence,
                                    batchHash: pending.hash,
                                    status: status
                                )
                            )
                        )
                        outstanding.withLockedValue { $0 -= 1 }
                        if outcome == .stored {
                            metrics.add("batches_stored")
                            metrics.add("events_stored", Int64(pending.eventCount))
                        } else {
                            metrics.add("batches_duplicate")
                        }
                    case .refused(let code, let message):
                        metrics.add("batches_rejected.\(code)")
                        try await self.abort(
                            outbound,
                            ErrorMessage(code: code, sequence: pending.sequence, message: message),
                            reason: "batch \(pending.sequence) refused: \(code)"
                        )
                    }
                }
            }

            var ending: End? = nil
            var lastTouch = Int64(0)
            reading: while true {
                let frame: Frame?
                do {
                    frame = try await self.next(&frames)
                } catch let end as End {
                    ending = end
                    break reading
                }
                guard let frame else { break reading }
                switch frame {
                case .batch(let body):
                    metrics.add("bytes_received", Int64(body.readableBytes))
                    guard outstanding.withLockedValue({ $0 }) < window else {
                        metrics.add("window_exceeded")
                        ending = End(
                            frame: ErrorMessage(
                                code: .windowExceeded,
                                sequence: SignedBatch.sequence(namedBy: body),
                                message: "more than \(window) batches unacknowledged"
                            ),
                            reason: "window exceeded"
                        )
                        break reading
                    }
                    // The envelope and signature first; then memory for the decoded batch is reserved (waiting,
                    // with only the compressed frame held, while the database is behind); then the payload.
                    var reserved = 0
                    let checked = session.verifier.check(body)
                    if case .success(let batch) = checked {
                        reserved = GroupCommitter.estimatedBytes(batch)
                        guard await self.committer.reserve(reserved) else {
                            ending = End(
                                frame: ErrorMessage(code: .shuttingDown, message: "the aggregator is shutting down"),
                                reason: "shutting down"
                            )
                            break reading
                        }
                    }
                    let verified = checked.flatMap { batch in session.verifier.decode(batch).map { (batch, $0) } }
                    if case .success = verified { metrics.add("batches_decoded") }
                    if case .failure = verified, reserved > 0 { await self.committer.release(reserved) }
                    switch verified {
                    case .failure(let rejection):
                        metrics.add("batches_rejected.\(rejection.code)")
                        let now = WallClock.nowNanos()
                        try? await store.recordFinding(
                            ChainFinding(
                                kind: .rejectedBatch,
                                agentID: agentID,
                                epoch: session.verifier.epoch,
                                fromSequence: rejection.sequence,
                                toSequence: rejection.sequence,
                                detail: "\(rejection.code): \(rejection.message)",
                                atNanos: now
                            )
                        )
                        ending = End(
                            frame: ErrorMessage(
                                code: rejection.code,
                                sequence: rejection.sequence,
                                message: rejection.message
                            ),
                            reason: "batch rejected: \(rejection.code)"
                        )
                        break reading
                    case .success(let (batch, layout)):
                        let promise = self.channel.channel.eventLoop.makePromise(of: IngestOutcome.self)
                        let item = IngestItem(
                            agentID: agentID,
                            batch: batch,
                            layout: layout,
                            receivedNanos: WallClock.nowNanos()
                        )
                        outstanding.withLockedValue { $0 += 1 }
                        ackSink.yield(
                            PendingAck(
                                epoch: batch.epoch,
                                sequence: batch.sequence,
                                hash: batch.hash,
                                eventCount: batch.eventCount,
                                outcome: promise.futureResult
                            )
                        )
                        await self.committer.enqueue(item, promise: promise, bytes: reserved)
                    }
                case .heartbeat:
                    let now = WallClock.nowNanos()
                    if now - lastTouch > 60_000_000_000 {
                        lastTouch = now
                        try? await store.touchAgent(id: agentID, atNanos: now)
                    }
                case .goodbye(let goodbye):
                    logger.info("Agent said goodbye", metadata: ["reason": "\(goodbye.message)"])
                    break reading
                case .error(let error):
                    logger.info(
                        "Agent sent an error",
                        metadata: ["code": "\(error.rawCode)", "message": "\(error.message)"]
                    )
                    // Every ERROR is fatal (§4.8): the receiver closes, and answers nothing, not even GOODBYE.
                    ending = End(frame: nil, reason: "agent sent ERROR \(error.rawCode)")
                    break reading
                case .hello, .challenge, .proof, .welcome, .ack, .enroll, .enrolled, .rotate, .rotated:
                    ending = End(
                        frame: ErrorMessage(
                            code: .unexpectedFrame,
                            message: "\(frame.type) is not allowed after WELCOME"
                        ),
                        reason: "unexpected \(frame.type)"
                    )
                    break reading
                }
            }
            // Acks for everything already handed to the committer go out before any error or goodbye.
            ackSink.finish()
            try await group.next()
            try? await store.touchAgent(id: agentID, atNanos: WallClock.nowNanos())
            if let ending { throw ending }
            try? await outbound.write(.goodbye(Goodbye(message: "closing")))
        }
    }
}

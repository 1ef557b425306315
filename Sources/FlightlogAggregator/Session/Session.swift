import FlightlogStore
import FlightlogSystem
import FlightlogWire
import Logging
import NIOCore

/// One agent connection (PROTOCOL.md §7): feeds what happens on it to a ``SessionStateMachine`` and carries out the
/// actions the machine returns. Every protocol decision is the machine's; this is the I/O.
///
/// One loop owns the machine and performs its actions in order. Two kinds of work run beside it as child tasks and
/// report back as events: the frame reader, which reads one frame each time the machine asks for one (so that a
/// session waiting for memory reads nothing, and TCP pushes back on the agent), and the wait for memory. Commit
/// outcomes arrive from the group committer as events too, in whatever order, while the loop waits for a frame.
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
    /// Which session each agent has: one at a time.
    let sessions: SessionRegistry

    /// What the session's child tasks and the committer report to its loop.
    private enum Event: Sendable {
        case frame(Frame)
        case undecodable(WireError)
        case peerClosed
        case transportFailed(any Error)
        case memoryReserved(Bool, bytes: Int)
        case committed(ticket: Int, Result<IngestOutcome, AggregatorError>)
    }

    func run() async {
        do {
            try await self.channel.executeThenClose { inbound, outbound in
                try await self.serve(inbound, outbound)
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

    private func serve(
        _ inbound: NIOAsyncChannelInboundStream<Frame>,
        _ outbound: NIOAsyncChannelOutboundWriter<Frame>
    ) async throws {
        var machine = SessionStateMachine(
            window: self.configuration.window,
            heartbeatIntervalSeconds: self.configuration.heartbeatIntervalSeconds,
            peer: self.peer,
            nonce: Self.freshNonce()
        )
        let (events, eventSink) = AsyncStream.makeStream(of: Event.self)
        let (reads, readSink) = AsyncStream.makeStream(of: Void.self)
        let token = self.sessions.makeToken()
        // This session's batches, stored in the order they arrive or not at all (PROTOCOL.md §7.4 rule 4).
        let lane = IngestLane()
        var claimed: Int64?
        defer { if let claimed { self.sessions.release(claimed, token: token) } }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await Self.readFrames(inbound, asked: reads, into: eventSink) }
            var pending = events.makeAsyncIterator()
            defer {
                readSink.finish()
                eventSink.finish()
                tasks.cancelAll()
            }
            var actions = machine.start()
            while true {
                while !actions.isEmpty {
                    let action = actions.removeFirst()
                    switch action {
                    case .readFrame:
                        readSink.yield()
                    case .send(let frame):
                        try await outbound.write(frame)
                    case .claimSession(let agentID):
                        claimed = agentID
                        let channel = self.channel.channel
                        if self.sessions.claim(agentID, token: token, close: { channel.close(promise: nil) }) {
                            self.metrics.add("sessions_replaced")
                            self.logger.notice(
                                "A newer session of this agent replaced the older one, which is closed",
                                metadata: [
                                    "agent.id": "\(agentID)",
                                    "hint": "a reconnect; if it repeats, two hosts share one key",
                                ]
                            )
                        }
                    case .ask(let request):
                        let answer = await self.ask(request)
                        let now = WallClock.nowNanos()
                        switch answer {
                        case .success(let answer):
                            actions.insert(contentsOf: machine.storeAnswered(answer, at: now), at: 0)
                        case .failure(let error): actions.insert(contentsOf: machine.storeFailed("\(error)"), at: 0)
                        }
                    case .checkEnrolmentRate(let atNanos):
                        let allowed = self.enrolments.allows(self.peerHost, nowNanos: atNanos)
                        actions.insert(contentsOf: machine.enrolmentRateChecked(allowed: allowed), at: 0)
                    case .countFailedEnrolment(let atNanos):
                        self.enrolments.fail(self.peerHost, nowNanos: atNanos)
                    case .reserveMemory(let bytes):
                        tasks.addTask { [committer = self.committer] in
                            let granted = await committer.reserve(bytes)
                            // A session that ended meanwhile will not queue the batch: give the memory back.
                            if case .terminated = eventSink.yield(.memoryReserved(granted, bytes: bytes)), granted {
                                await committer.release(bytes)
                            }
                        }
                    case .releaseMemory(let bytes):
                        await self.committer.release(bytes)
                    case .enqueue(let item, let bytes, let ticket):
                        await self.committer.enqueue(item, bytes: bytes, lane: lane) { outcome in
                            eventSink.yield(.committed(ticket: ticket, outcome))
                        }
                    case .note(let note):
                        await self.note(note)
                    case .count(let name, let amount):
                        self.metrics.add(name, amount)
                    case .report(let agent, let heartbeat, let atNanos):
                        self.metrics.noteHeartbeat(agent: agent, heartbeat, receivedNanos: atNanos)
                    case .log(let line):
                        self.logger.log(
                            level: line.level,
                            "\(line.message)",
                            metadata: line.metadata.mapValues { .string($0) }
                        )
                    case .close(let closing):
                        await self.close(closing, outbound)
                        eventSink.finish()
                        // Reservations granted but not yet seen are given back.
                        while let event = await pending.next() {
                            if case .memoryReserved(true, let bytes) = event { await self.committer.release(bytes) }
                        }
                        return
                    }
                }
                guard let event = await pending.next() else { return }
                actions = try Self.feed(event, to: &machine, at: WallClock.nowNanos())
            }
        }
    }

    /// Hands `event` to the machine; a transport failure ends the session with its error (logged by ``run()``).
    private static func feed(
        _ event: Event,
        to machine: inout SessionStateMachine,
        at now: Int64
    ) throws -> [SessionStateMachine.Action] {
        switch event {
        case .frame(let frame): return machine.frameReceived(frame, at: now)
        case .undecodable(let error): return machine.frameUndecodable(error, at: now)
        case .peerClosed: return machine.peerClosed(at: now)
        case .transportFailed(let error): throw error
        case .memoryReserved(let granted, _): return machine.memoryReserved(granted, at: now)
        case .committed(let ticket, let outcome): return machine.commitFinished(ticket: ticket, outcome, at: now)
        }
    }

    /// Reads one frame each time one is asked for, until the connection ends or a frame does not decode.
    private static func readFrames(
        _ inbound: NIOAsyncChannelInboundStream<Frame>,
        asked reads: AsyncStream<Void>,
        into events: AsyncStream<Event>.Continuation
    ) async {
        var frames = inbound.makeAsyncIterator()
        for await _ in reads {
            do {
                guard let frame = try await frames.next() else {
                    events.yield(.peerClosed)
                    return
                }
                events.yield(.frame(frame))
            } catch let error as WireError {
                events.yield(.undecodable(error))
                return
            } catch {
                events.yield(.transportFailed(error))
                return
            }
        }
    }

    private func ask(
        _ request: SessionStateMachine.StoreRequest
    ) async -> Result<
        SessionStateMachine.StoreAnswer, any Error
    > {
        do {
            switch request {
            case .agent(let publicKey):
                return .success(.agent(try await self.store.agent(publicKey: publicKey)))
            case .keyHolder(let publicKey):
                return .success(.keyHolder(try await self.store.keyHolder(publicKey: publicKey)))
            case .redeem(let token, let publicKey, let peer, let atNanos):
                let outcome = try await self.store.redeem(
                    token: token,
                    publicKey: publicKey,
                    peer: peer,
                    atNanos: atNanos
                )
                return .success(.redeemed(outcome))
            case .rotate(let record, let atNanos):
                return .success(.rotated(try await self.store.rotate(record, atNanos: atNanos)))
            case .chainHead(let agentID, let epoch):
                return .success(.chainHead(try await self.store.chainHead(agentID: agentID, epoch: epoch)))
            case .recordHandshake(let record):
                try await self.store.recordHandshake(record)
                return .success(.handshakeRecorded)
            }
        } catch {
            return .failure(error)
        }
    }

    private func note(_ note: SessionStateMachine.StoreNote) async {
        switch note {
        case .handshake(let record): try? await self.store.recordHandshake(record)
        case .finding(let finding): try? await self.store.recordFinding(finding)
        case .touch(let agentID, let atNanos): try? await self.store.touchAgent(id: agentID, atNanos: atNanos)
        }
    }

    /// Writes the last frame, if any; a peer that already left is not an error of ours. The connection is closed
    /// when ``run()``'s `executeThenClose` returns.
    private func close(_ closing: SessionStateMachine.Closing, _ outbound: NIOAsyncChannelOutboundWriter<Frame>) async {
        switch closing {
        case .goodbye:
            try? await outbound.write(.goodbye(Goodbye(message: "closing")))
        case .error(let error, let reason):
            self.logger.info("Closing connection", metadata: ["reason": "\(reason)"])
            self.metrics.add("errors_sent.\(error.code.map { "\($0)" } ?? "\(error.rawCode)")")
            try? await outbound.write(.error(error))
        case .silently(let reason):
            self.logger.info("Closing connection", metadata: ["reason": "\(reason)"])
        }
    }

    /// 32 bytes from the system's cryptographically secure generator (PROTOCOL.md §4.2).
    private static func freshNonce() -> Bytes32 {
        var generator = SystemRandomNumberGenerator()
        return Bytes32((0..<32).map { _ in generator.next() as UInt8 }) ?? .zero
    }
}

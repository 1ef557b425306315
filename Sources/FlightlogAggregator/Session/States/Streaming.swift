import FlightlogStore
import FlightlogWire

/// What the aggregator holds of a session after WELCOME: the agent, how its batches are checked, and the batches
/// handed to the committer whose ACKs are still due, in the order they arrived (PROTOCOL.md §7.4).
struct Streaming {
    /// A batch handed to the committer, not yet acknowledged.
    struct Unacked {
        var ticket: Int
        var epoch: UInt64
        var sequence: UInt64
        var hash: Bytes32
        var eventCount: Int
        /// Nil until its commit finished; then it waits for the batches before it to be acknowledged.
        var outcome: Result<IngestOutcome, AggregatorError>?
    }

    let agent: AgentRecord
    let verifier: BatchVerifier
    /// The window granted in WELCOME.
    let window: Int
    private(set) var unacked: [Unacked] = []
    private var nextTicket = 0
    /// When the agent's last-seen time was last written for a heartbeat.
    var lastTouchNanos: Int64 = 0

    init(agent: AgentRecord, verifier: BatchVerifier, window: Int) {
        self.agent = agent
        self.verifier = verifier
        self.window = window
    }

    /// Every BATCH the window allows is unacknowledged: one more is `windowExceeded` (§7.4 rule 1).
    var windowIsFull: Bool { self.unacked.count >= self.window }

    /// Counts `batch` as handed to the committer; returns the ticket its outcome will come back with.
    mutating func handOver(_ batch: SignedBatch) -> Int {
        let ticket = self.nextTicket
        self.nextTicket += 1
        self.unacked.append(
            Unacked(
                ticket: ticket,
                epoch: batch.epoch,
                sequence: batch.sequence,
                hash: batch.hash,
                eventCount: batch.eventCount,
                outcome: nil
            )
        )
        return ticket
    }

    /// Takes the outcome of the commit holding `ticket`'s batch, in whatever order commits finish, and returns the
    /// ACKs now due: one per batch, in arrival order, for every leading batch whose commit has finished (§7.4
    /// rule 2). The first outcome that is not an ACK ends the session with its ERROR: `closing` says which.
    mutating func settle(
        ticket: Int,
        _ outcome: Result<IngestOutcome, AggregatorError>
    ) -> (actions: [SessionStateMachine.Action], closing: SessionStateMachine.Closing?) {
        guard let index = self.unacked.firstIndex(where: { $0.ticket == ticket }) else { return ([], nil) }
        self.unacked[index].outcome = outcome
        var actions: [SessionStateMachine.Action] = []
        while let first = self.unacked.first, let outcome = first.outcome {
            switch outcome {
            case .success(.stored), .success(.duplicate):
                let stored = outcome == .success(.stored)
                self.unacked.removeFirst()
                actions.append(
                    .send(
                        .ack(
                            Ack(
                                epoch: first.epoch,
                                sequence: first.sequence,
                                batchHash: first.hash,
                                status: stored ? .stored : .duplicate
                            )
                        )
                    )
                )
                if stored {
                    actions.append(.count("batches_stored"))
                    actions.append(.count("events_stored", Int64(first.eventCount)))
                } else {
                    actions.append(.count("batches_duplicate"))
                }
            case .success(.refused(let code, let message)):
                actions.append(.count("batches_rejected.\(code)"))
                return (
                    actions,
                    .error(
                        ErrorMessage(code: code, sequence: first.sequence, message: message),
                        reason: "batch \(first.sequence) refused: \(code)"
                    )
                )
            case .success(.heldBack(let after)):
                // An earlier batch of its chain, from an older session of the agent, was refused in the same
                // transaction (§7.4 rule 4): not stored, to be sent again.
                return (actions, Self.notStored(first, "batch \(first.sequence) held back: batch \(after) was refused"))
            case .failure(let error):
                // Nothing of its transaction is stored: the agent keeps it spooled and sends it again (§7.5).
                return (actions, Self.notStored(first, "\(error)"))
            }
        }
        return (actions, nil)
    }

    /// ERROR `storageFailure` naming `batch`: not stored, to be resent (§7.5), and the session ends.
    private static func notStored(_ batch: Unacked, _ reason: String) -> SessionStateMachine.Closing {
        .error(
            ErrorMessage(code: .storageFailure, sequence: batch.sequence, message: "not stored, resend later"),
            reason: reason
        )
    }
}

import FlightlogStore
import FlightlogWire
import Logging

extension SessionStateMachine {
    /// What ``Session`` does for the machine, in the order given. An action that asks something (a frame, the
    /// store, the enrolment limiter, memory, a commit) is answered by the event its case names; it is always the
    /// last action of its list.
    enum Action {
        /// Read the next frame: answered by `frameReceived`, `frameUndecodable` or `peerClosed`. Until it is asked
        /// for, nothing is read and TCP pushes back on the agent.
        case readFrame
        /// Write a frame that does not end the session (CHALLENGE, ENROLLED, ROTATED, WELCOME, ACK).
        case send(Frame)
        /// Make this the agent's one session, closing an older one (``SessionRegistry``); right before WELCOME.
        case claimSession(agentID: Int64)
        /// Ask the store: answered by `storeAnswered` or, when the store fails, `storeFailed`.
        case ask(StoreRequest)
        /// Ask whether the peer's address may try an enrolment token now: answered by `enrolmentRateChecked`.
        case checkEnrolmentRate(atNanos: Int64)
        /// Count a failed enrolment against the peer's address.
        case countFailedEnrolment(atNanos: Int64)
        /// Reserve memory for a batch about to be decoded, waiting while the commit queue is full: answered by
        /// `memoryReserved`.
        case reserveMemory(bytes: Int)
        /// Give back a reservation that will not be queued.
        case releaseMemory(bytes: Int)
        /// Hand a verified batch, with its reservation, to the group committer: answered by `commitFinished` with
        /// `ticket` once its transaction committed or failed.
        case enqueue(IngestItem, bytes: Int, ticket: Int)
        /// A store write whose failure changes nothing in the session: done, and its error ignored.
        case note(StoreNote)
        /// Add `amount` to the counter `name` (``AggregatorMetrics``).
        case count(String, Int64 = 1)
        /// Keep what the agent reported in a HEARTBEAT with counters, for the metrics endpoint.
        case report(agent: String, Heartbeat, atNanos: Int64)
        /// Log a line.
        case log(LogLine)
        /// End the session: write what `Closing` says, then close the connection. Nothing follows.
        case close(Closing)
    }

    /// A question for the store, whose answer the session waits for.
    enum StoreRequest {
        /// The enrolled agent holding this key (``EvidenceStore/agent(publicKey:)``).
        case agent(publicKey: Bytes32)
        /// Who held this key and until when (``EvidenceStore/keyHolder(publicKey:)``).
        case keyHolder(publicKey: Bytes32)
        /// Enrol the key with a token (``EvidenceStore/redeem(token:publicKey:peer:atNanos:)``).
        case redeem(token: String, publicKey: Bytes32, peer: String, atNanos: Int64)
        /// Hand the chain over to a new key (``EvidenceStore/rotate(_:atNanos:)``).
        case rotate(RotationRecord, atNanos: Int64)
        /// The resume point (``EvidenceStore/chainHead(agentID:epoch:)``).
        case chainHead(agentID: Int64, epoch: UInt64)
        /// Record the accepted handshake; WELCOME waits for it (``EvidenceStore/recordHandshake(_:)``).
        case recordHandshake(HandshakeRecord)
    }

    /// The store's answer to a ``StoreRequest``, case for case.
    enum StoreAnswer {
        case agent(AgentRecord?)
        case keyHolder((name: String, untilNanos: Int64?)?)
        case redeemed(Result<AgentRecord, EnrolmentRefusal>)
        case rotated(Result<AgentRecord, RotationRefusal>)
        case chainHead(ChainLink.Head?)
        case handshakeRecorded
    }

    /// A store write that is attempted once, with any failure ignored: the session goes on as if it worked.
    enum StoreNote {
        /// A refused handshake, for the record.
        case handshake(HandshakeRecord)
        /// A batch refused before it reached the store.
        case finding(ChainFinding)
        /// The agent was seen at this time.
        case touch(agentID: Int64, atNanos: Int64)
    }

    /// How a session ends.
    enum Closing: Equatable {
        /// GOODBYE, after every due ack (PROTOCOL.md §7.7).
        case goodbye
        /// This ERROR (every ERROR is fatal, §4.8); `reason` is for the log.
        case error(ErrorMessage, reason: String)
        /// Nothing is written: the agent ended the session itself (§4.8, §7.2 rule 6).
        case silently(reason: String)
    }

    /// One log line: a fixed message with its metadata.
    struct LogLine {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }
}

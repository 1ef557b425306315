import FlightlogWire

@testable import FlightlogAggregator
@testable import FlightlogStore

// What ``SessionStateMachineTests`` read out of the machine's actions.

/// An action reduced to what a test compares.
enum Step: Equatable {
    enum Question: Equatable {
        case agent(Bytes32)
        case keyHolder(Bytes32)
        case redeem(token: String, atNanos: Int64)
        case rotate(RotationRecord, atNanos: Int64)
        case chainHead(agentID: Int64, epoch: UInt64)
        case recordHandshake(outcome: String)
    }

    struct Finding: Equatable {
        var kind: ChainFinding.Kind
        var sequence: UInt64?
        var atNanos: Int64
    }

    case read
    case send(Frame)
    case claim(agentID: Int64)
    case ask(Question)
    case checkEnrolmentRate(Int64)
    case failedEnrolment(Int64)
    case reserve(Int)
    case
        release(Int)
    case enqueue(sequence: UInt64, bytes: Int, ticket: Int)
    case handshakeNote(String)
    case finding(Finding)
    case
        touch(Int64)
    case count(String, Int64)
    case log(String)
    case report(agent: String, counters: [String: UInt64])
    case close(SessionStateMachine.Closing)

    /// Whether this is a step of the protocol (not a counter or a log line).
    var isProtocol: Bool {
        switch self {
        case .count, .log, .report: false
        default: true
        }
    }
}

extension SessionStateMachine.Action {
    var step: Step {
        switch self {
        case .readFrame: .read
        case .send(let frame): .send(frame)
        case .claimSession(let agentID): .claim(agentID: agentID)
        case .ask(let request):
            switch request {
            case .agent(let key): .ask(.agent(key))
            case .keyHolder(let key): .ask(.keyHolder(key))
            case .redeem(let token, _, _, let at): .ask(.redeem(token: token, atNanos: at))
            case .rotate(let record, let at): .ask(.rotate(record, atNanos: at))
            case .chainHead(let agentID, let epoch): .ask(.chainHead(agentID: agentID, epoch: epoch))
            case .recordHandshake(let record): .ask(.recordHandshake(outcome: record.outcome))
            }
        case .checkEnrolmentRate(let at): .checkEnrolmentRate(at)
        case .countFailedEnrolment(let at): .failedEnrolment(at)
        case .reserveMemory(let bytes): .reserve(bytes)
        case .releaseMemory(let bytes): .release(bytes)
        case .enqueue(let item, let bytes, let ticket):
            .enqueue(sequence: item.batch.sequence, bytes: bytes, ticket: ticket)
        case .note(.handshake(let record)): .handshakeNote(record.outcome)
        case .note(.finding(let finding)):
            .finding(Step.Finding(kind: finding.kind, sequence: finding.fromSequence, atNanos: finding.atNanos))
        case .note(.touch(_, let at)): .touch(at)
        case .count(let name, let amount): .count(name, amount)
        case .log(let line): .log(line.message)
        case .report(let agent, let heartbeat, _):
            .report(agent: agent, counters: Dictionary(heartbeat.counters.map { ($0.name, $0.value) }) { $1 })
        case .close(let closing): .close(closing)
        }
    }
}

extension Array where Element == SessionStateMachine.Action {
    var steps: [Step] { self.map(\.step) }

    var closing: SessionStateMachine.Closing? {
        for case .close(let closing) in self { return closing }
        return nil
    }

    var sent: [Frame] { self.compactMap { if case .send(let frame) = $0 { frame } else { nil } } }

    var ackedSequences: [UInt64] {
        self.sent.compactMap { frame -> UInt64? in if case .ack(let ack) = frame { ack.sequence } else { nil } }
    }

    var counts: [String: Int64] {
        var counts: [String: Int64] = [:]
        for case .count(let name, let amount) in self { counts[name, default: 0] += amount }
        return counts
    }

    var handshakeNotes: [HandshakeRecord] {
        self.compactMap { if case .note(.handshake(let record)) = $0 { record } else { nil } }
    }

    var findings: [Step.Finding] {
        self.compactMap { if case .finding(let finding) = $0.step { finding } else { nil } }
    }
}

extension SessionStateMachine.Closing {
    var errorCode: ErrorCode? { if case .error(let error, _) = self { error.code } else { nil } }
    var errorSequence: UInt64? { if case .error(let error, _) = self { error.sequence } else { nil } }
    var errorMessage: String? { if case .error(let error, _) = self { error.message } else { nil } }
}

extension SessionStateMachine {
    var isClosed: Bool { if case .closed = self.state { true } else { false } }
    var isStreaming: Bool { if case .streaming = self.state { true } else { false } }
}

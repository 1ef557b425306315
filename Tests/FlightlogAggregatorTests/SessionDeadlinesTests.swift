import FlightlogWire
import NIOCore
import Testing

@testable import FlightlogAggregator

/// The connection's deadlines without a channel or a timer (PROTOCOL.md §7.1, §7.6): each scenario is a sequence of
/// events with the answer expected to each timer firing.
@Suite("SessionDeadlines: handshake deadline, idle timeout and heartbeats")
struct SessionDeadlinesTests {
    static let idle = TimeAmount.seconds(45)
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func at(_ seconds: Int64) -> NIODeadline { Self.start + .seconds(seconds) }

    static let handshakeTimeout = SessionDeadlines.Action.fail(
        ErrorMessage(code: .timeout, message: "handshake not completed in time"),
        counter: "handshakes_timed_out"
    )
    static let idleTimeout = SessionDeadlines.Action.fail(
        ErrorMessage(code: .timeout, message: "no frame received within 3 heartbeat intervals"),
        counter: "sessions_timed_out"
    )

    enum Event {
        case welcome
        case read(Int64)
        case readComplete
        /// A read timeout fired at this second; the answer expected.
        case idle(Int64, SessionDeadlines.Action)
    }

    enum Scenario: String, CaseIterable, Sendable {
        case silentBeforeWelcome, silentAgent, serverPaused, resumedTooRecently, resumedLongAgo, pausedAgain

        var events: [Event] {
            switch self {
            case .silentBeforeWelcome:
                // The idle timeout is not the handshake's deadline: before WELCOME it does nothing.
                [.read(0), .idle(45, .none)]
            case .silentAgent:
                [.welcome, .read(0), .idle(45, SessionDeadlinesTests.idleTimeout)]
            case .serverPaused:
                // No read asked for: the agent's frames wait in the socket; the silence is ours.
                [.welcome, .read(0), .readComplete, .idle(45, .forgive), .idle(90, .forgive)]
            case .resumedTooRecently:
                [.welcome, .read(0), .readComplete, .idle(45, .forgive), .read(80), .idle(90, .forgive)]
            case .resumedLongAgo:
                [
                    .welcome, .read(0), .readComplete, .idle(45, .forgive), .read(80), .idle(100, .forgive),
                    .idle(125, SessionDeadlinesTests.idleTimeout),
                ]
            case .pausedAgain:
                [
                    .welcome, .read(0), .readComplete, .idle(45, .forgive), .read(80), .readComplete,
                    .idle(200, .forgive), .read(300), .idle(344, .forgive),
                    .idle(345, SessionDeadlinesTests.idleTimeout),
                ]
            }
        }
    }

    @Test("a read timeout is the agent's silence only while the server reads (§7.6)", arguments: Scenario.allCases)
    func idle(_ scenario: Scenario) {
        var deadlines = SessionDeadlines(idleTimeout: Self.idle)
        for event in scenario.events {
            switch event {
            case .welcome: deadlines.welcomeSent()
            case .read(let second): deadlines.readRequested(at: Self.at(second))
            case .readComplete: deadlines.readCompleted()
            case .idle(let second, let expected):
                #expect(deadlines.readIdle(at: Self.at(second)) == expected, "idle at \(second) s")
            }
        }
    }

    @Test("HELLO and PROOF must arrive before the handshake deadline; after WELCOME it does nothing (§7.1)")
    func handshakeDeadline() {
        var deadlines = SessionDeadlines(idleTimeout: Self.idle)
        #expect(deadlines.handshakeDeadlinePassed() == Self.handshakeTimeout)
        deadlines.welcomeSent()
        #expect(deadlines.handshakeDeadlinePassed() == .none)
    }

    @Test("the aggregator's heartbeats start with WELCOME, carry its clock and no counters (§4.7)")
    func heartbeats() {
        var deadlines = SessionDeadlines(idleTimeout: Self.idle)
        #expect(deadlines.writeIdle(wallClockNanos: 5) == .none)
        deadlines.welcomeSent()
        #expect(deadlines.writeIdle(wallClockNanos: 5) == .send(.heartbeat(Heartbeat(timeNanos: 5, counters: []))))
    }
}

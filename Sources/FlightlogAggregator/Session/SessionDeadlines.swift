import FlightlogWire
import NIOCore

/// The deadlines of one connection as a plain state machine (PROTOCOL.md §7.1, §7.6): the handshake deadline, the
/// idle timeout (3 × H without a frame) and the aggregator's own heartbeats. ``SessionGuardHandler`` owns the timers
/// and feeds their firings in with the time; this decides what each means.
///
/// Silence counts against the agent only while the server is reading. When the database is slow, sessions stop
/// taking frames and the async channel stops asking the socket for more (backpressure): the agent's frames and
/// heartbeats then wait in the socket, unread, and a read timeout at that point would cut off live agents for the
/// server's own delay (and their resends would add to the load). An idle period while no read is asked for is
/// forgiven (counted as `idle_while_paused`), and after such a pause the agent gets a full idle period from the
/// moment reading resumes.
///
/// These live apart from ``SessionStateMachine`` because they must act on the event loop even while the session's
/// task waits (for the store, for memory, for a slow writer), and whether the server is reading is known only in
/// the channel pipeline.
struct SessionDeadlines {
    /// What a firing means.
    enum Action: Equatable {
        /// Nothing to do.
        case none
        /// Send this frame (a heartbeat).
        case send(Frame)
        /// An idle period passed while reading was paused, or too soon after it resumed: counted, forgiven.
        case forgive
        /// Send this ERROR, counted under `counter`, and close.
        case fail(ErrorMessage, counter: String)
    }

    private let idleTimeout: TimeAmount
    /// WELCOME has gone out.
    private(set) var established = false
    /// A read was asked of the socket and has not completed: the server is waiting on the peer.
    private var reading = false
    /// An idle period was forgiven because reading was paused, and reading has not resumed since.
    private var paused = false
    /// When reading resumed after such a pause.
    private var resumed: NIODeadline?

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    /// The server asked the socket for data at `now`.
    mutating func readRequested(at now: NIODeadline) {
        if !self.reading && self.paused {
            self.paused = false
            self.resumed = now
        }
        self.reading = true
    }

    /// A read completed.
    mutating func readCompleted() {
        self.reading = false
    }

    /// WELCOME was written: the handshake deadline no longer applies, the idle timeout and heartbeats do.
    mutating func welcomeSent() {
        self.established = true
    }

    /// HELLO and PROOF must both have arrived within the handshake deadline of the accept (§7.1 rule 2).
    func handshakeDeadlinePassed() -> Action {
        guard !self.established else { return .none }
        return self.timeout("handshake not completed in time")
    }

    /// No frame was read for an idle period, checked at `now`: `timeout` after WELCOME unless the silence is ours.
    mutating func readIdle(at now: NIODeadline) -> Action {
        guard self.established else { return .none }
        let sinceResumed = self.resumed.map { now - $0 }
        guard self.reading, sinceResumed.map({ $0 >= self.idleTimeout }) ?? true else {
            // Reading is paused by backpressure, or resumed less than an idle period ago: the silence is ours.
            self.paused = !self.reading
            return .forgive
        }
        return self.timeout("no frame received within 3 heartbeat intervals")
    }

    /// Nothing was written for a heartbeat interval: after WELCOME, a HEARTBEAT without counters (§4.7, §7.6) with
    /// the aggregator's clock.
    func writeIdle(wallClockNanos: Int64) -> Action {
        guard self.established else { return .none }
        return .send(.heartbeat(Heartbeat(timeNanos: wallClockNanos)))
    }

    private func timeout(_ message: String) -> Action {
        .fail(
            ErrorMessage(code: .timeout, message: message),
            counter: self.established ? "sessions_timed_out" : "handshakes_timed_out"
        )
    }
}

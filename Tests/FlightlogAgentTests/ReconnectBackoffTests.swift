import Testing

@testable import FlightlogAgent

/// The waits between connection attempts: what a fleet does when its aggregator restarts or refuses it.
@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
    @Test func failedAttemptsDoubleTheWaitUpToAMinute() {
        var backoff = ReconnectBackoff()
        let waits = (0..<9).map { _ in backoff.attemptFailed() }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 60, 60])
    }

    /// An aggregator restart: the session had shipped, so the next attempt comes within a second, however many
    /// failures came before it.
    @Test func aSessionThatGotAnAckStartsOverAtOneSecond() {
        var backoff = ReconnectBackoff()
        for _ in 0..<8 { _ = backoff.attemptFailed() }
        #expect(backoff.sessionEnded(acknowledged: true, retryable: true) == 1)
        #expect(backoff.attemptFailed() == 2)
    }

    /// A session that ended before any ACK (a handshake that fails each time) keeps backing off.
    @Test func aSessionWithoutAnAckKeepsBackingOff() {
        var backoff = ReconnectBackoff()
        #expect(backoff.sessionEnded(acknowledged: false, retryable: true) == 1)
        #expect(backoff.sessionEnded(acknowledged: false, retryable: true) == 2)
        #expect(backoff.sessionEnded(acknowledged: false, retryable: true) == 4)
    }

    @Test func aRefusalAnOperatorMustActOnWaitsAMinute() {
        var backoff = ReconnectBackoff()
        #expect(backoff.sessionEnded(acknowledged: true, retryable: false) == 60)
        #expect(backoff.attemptFailed() == 60)
    }

    @Test(arguments: [1.0, 8.0, 60.0])
    func theWaitIsJitteredBetweenHalfAndAllOfTheCeiling(ceiling: Double) {
        for _ in 0..<200 {
            let wait = ReconnectBackoff.jittered(ceiling)
            #expect(wait >= .milliseconds(Int64(ceiling * 500)) && wait <= .milliseconds(Int64(ceiling * 1000)))
        }
    }
}

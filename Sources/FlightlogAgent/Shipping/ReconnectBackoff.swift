/// How long the shipper waits before it connects again: 1 s, doubling to 60 s while attempts fail, back to 1 s
/// after a session that got an ACK (so that an aggregator restart or a network blip costs seconds, not a minute),
/// 60 s at once after a refusal an operator must act on. Each wait is jittered down to half, so that a fleet that
/// lost its aggregator at the same moment does not come back in step.
struct ReconnectBackoff: Sendable, Equatable {
    static let first = 1.0
    static let longest = 60.0
    /// The ceiling of the wait before the next aggregator of a list, when it has not been tried in this round.
    static let failover = 0.2

    /// The ceiling of the next wait, in seconds.
    private(set) var seconds = Self.first

    /// The ceiling for the wait after a session that ended: `acknowledged` when it got at least one ACK,
    /// `retryable` false when the aggregator's refusal needs an operator (an unknown or revoked key).
    mutating func sessionEnded(acknowledged: Bool, retryable: Bool) -> Double {
        if !retryable {
            self.seconds = Self.longest
        } else if acknowledged {
            self.seconds = Self.first
        }
        return self.take()
    }

    /// The ceiling for the wait after an attempt that did not reach a session (no route, refused, TLS failed).
    mutating func attemptFailed() -> Double { self.take() }

    private mutating func take() -> Double {
        let now = self.seconds
        self.seconds = min(self.seconds * 2, Self.longest)
        return now
    }

    /// The wait itself: between half the ceiling and all of it.
    static func jittered(_ ceiling: Double) -> Duration {
        .milliseconds(Int64(ceiling * Double.random(in: 0.5...1.0) * 1000))
    }
}

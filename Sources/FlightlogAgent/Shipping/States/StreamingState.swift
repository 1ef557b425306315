/// After WELCOME: batches flow within the window, heartbeats keep the connection alive (PROTOCOL.md §7.4–7.6).
struct StreamingState: Equatable, Sendable {
    /// The chain of this session: every ACK must name it.
    let epoch: UInt64
    var window: InFlightWindow
    /// WELCOME's heartbeat interval H.
    let heartbeatInterval: Duration
    /// When the next HEARTBEAT is due.
    var nextHeartbeat: ContinuousClock.Instant

    /// The silence after which the aggregator counts as gone: it sends something at least every H seconds
    /// (PROTOCOL.md §7.6).
    var silenceTimeout: Duration { self.heartbeatInterval * 3 }
}

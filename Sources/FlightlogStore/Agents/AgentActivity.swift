/// What an agent's stored events say about it lately, for `flightlog agents`: the time of the last log line it
/// shipped (its own lifecycle events left out), and whether its last event is its own stop.
///
/// Read from the evidence, so it means the same on a copy examined days later: an agent is *silent* when its last
/// line trails the newest line of the whole fleet, not when the investigator's clock says so.
public struct AgentActivity: Sendable, Equatable {
    /// The host its last event names.
    public var host: String
    /// Event time of the last line it shipped that is not one of its own lifecycle events; nil when it shipped none.
    public var lastLineNanos: Int64?
    /// Whether its very last stored event is its own "stopping" event: it was stopped (SIGTERM, `systemctl stop`),
    /// not cut off.
    public var stopped: Bool
    /// The event time of that last event.
    public var lastEventNanos: Int64

    public init(host: String, lastLineNanos: Int64?, stopped: Bool, lastEventNanos: Int64) {
        self.host = host
        self.lastLineNanos = lastLineNanos
        self.stopped = stopped
        self.lastEventNanos = lastEventNanos
    }

    /// The agent's own events (start, stop, spool full…) carry this source (FlightlogAgent's `Collector`).
    public static let lifecycleSource = "flightlog-agent"
    /// How the agent's stop event begins.
    public static let stopPrefix = Array("flightlog-agent stopping".utf8)
}

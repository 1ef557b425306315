/// Which of an event's two times: the one it carries, or when the aggregator received it.
public enum EventClock: String, Sendable, CaseIterable {
    /// The event's own time (parsed from the line, or when the agent read it).
    case event
    /// When the aggregator received the batch holding it.
    case received
}

import FlightlogEvidence
import FlightlogWire
import GRDB

/// What a timeline needs besides its events: the agents involved (with their clock skew) and the markers.
public struct TimelineContext: Sendable {
    /// Agents with at least one selected event.
    public var agents: [AgentRecord]
    /// Markers in time order.
    public var markers: [TimelineMarker]
}

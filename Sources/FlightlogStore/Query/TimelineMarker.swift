import FlightlogEvidence
import FlightlogWire
import GRDB

/// Something a timeline shows between events: a chain gap, a silent agent, another integrity finding.
public struct TimelineMarker: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Batches of the agent's chain never arrived.
        case gap
        /// The agent's stored batches cover no events for longer than the silence threshold.
        case silence
        /// Another recorded finding (equivocation, broken link, new epoch, late or rejected batch).
        case finding
    }

    public var kind: Kind
    /// Where the marker sits on the timeline (event clock).
    public var timeNanos: Int64
    public var agent: String
    public var detail: String
}

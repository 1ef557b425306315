import FlightlogWire

/// An agent with what the store holds for it, for `flightlog agents`.
public struct AgentSummary: Equatable, Sendable {
    public var agent: AgentRecord
    public var currentEpoch: UInt64?
    public var lastSequence: UInt64?
    public var epochs: Int
    public var batches: Int64
    public var events: Int64
    public var gaps: Int
    public var equivocations: Int
    public var openFindings: Int
}

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

    public init(
        agent: AgentRecord,
        currentEpoch: UInt64?,
        lastSequence: UInt64?,
        epochs: Int,
        batches: Int64,
        events: Int64,
        gaps: Int,
        equivocations: Int,
        openFindings: Int
    ) {
        self.agent = agent
        self.currentEpoch = currentEpoch
        self.lastSequence = lastSequence
        self.epochs = epochs
        self.batches = batches
        self.events = events
        self.gaps = gaps
        self.equivocations = equivocations
        self.openFindings = openFindings
    }
}

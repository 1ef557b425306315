package import FlightlogEvidence
package import FlightlogWire

/// What `flightlog export` reads of a store to write an evidence bundle and its report: the events (``EventReading``),
/// the transparency log (``TransparencyStore``), and the signed batches, agents and keys behind the events. The
/// SQLite store and the PostgreSQL store's reader provide it, so that a bundle is written by the same code from
/// either.
package protocol BundleSource: EventReading, TransparencyStore {
    /// Where the evidence is (the report's custody section names it).
    var path: String { get }
    /// Batch `id` with its agent, place in its chain, hash, signed envelope and leaf; nil when not stored.
    func exportBatch(id: Int64) throws -> ExportedBatch?
    /// The agents among `ids`, by name.
    func exportAgents(ids: Set<Int64>) throws -> [AgentRecord]
    /// The keys an agent held before its current one (oldest first: raw key, from, until, how) and its rotation
    /// records, for keys.json.
    func exportKeyHistory(agentID: Int64) throws -> (keys: [(Bytes32, Int64, Int64?, String)], rotations: [[UInt8]])
    /// The signed batches holding the selected events, in the order of their first event.
    func reportBatches(_ query: EventQuery) throws -> [IncidentReport.Custody.Batch]
    /// The last recorded `verify` run, in words, for the report; nil when none is recorded.
    func lastVerifyDescription() async throws -> String?
}

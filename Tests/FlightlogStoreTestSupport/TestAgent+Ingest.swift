public import FlightlogStore
public import FlightlogTestSupport
public import FlightlogWire

extension TestAgent {
    /// Stores `batches` as the aggregator's session stores them once this agent passed its handshake, with no server
    /// and no TCP: the accepted handshake recorded (``TestAgent/clockOffsetNanos`` as its skew), each batch ingested
    /// on its own and received now (or at `receivedNanos`), the agent seen. Throws unless each batch is stored. The
    /// agent must be enrolled.
    public func ingest(
        _ batches: [SignedBatch],
        into store: any EvidenceStore,
        receivedNanos: Int64? = nil
    ) async throws {
        guard let record = try await store.agent(publicKey: self.publicKey) else {
            throw TestFailure("\(self.name) is not enrolled")
        }
        try await store.recordHandshake(
            HandshakeRecord(
                atNanos: nowNanos(),
                peer: "127.0.0.1:40000",
                publicKey: self.publicKey,
                agentID: record.id,
                agentName: self.name,
                epoch: self.epoch,
                skewNanos: self.clockOffsetNanos,
                outcome: "accepted"
            )
        )
        for batch in batches {
            let item = IngestItem(
                agentID: record.id,
                batch: batch,
                layout: try batch.decodeLayout(),
                receivedNanos: receivedNanos ?? nowNanos()
            )
            let outcomes = try await store.ingest([item])
            guard outcomes == [.stored] else { throw TestFailure("batch \(batch.sequence): \(outcomes)") }
        }
        try await store.touchAgent(id: record.id, atNanos: nowNanos())
    }
}

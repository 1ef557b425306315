public import FlightlogEvidence
public import FlightlogStore
public import FlightlogWire
import Foundation
import Logging
import PostgresNIO

/// What `flightlog export --store` reads: the signed batches, agents and keys behind the selected events, as the
/// SQLite store's export reads them (`SQLiteStore+Export.swift`).
extension PostgresStore {
    func exportBatch(id: Int64) async throws(StoreError) -> ExportedBatch? {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT b.agent_id, a.name, b.epoch, b.seq, b.hash, b.envelope, l.leaf_index FROM batches b
                JOIN agents a ON a.id = b.agent_id LEFT JOIN merkle_leaves l ON l.batch_id = b.id
                WHERE b.id = \(id)
                """,
                logger: self.logger
            )
            for try await (agentID, name, epoch, sequence, hash, envelope, leaf) in rows.decode(
                (Int64, String, Int64, Int64, Data, Data, Int64?).self
            ) {
                return ExportedBatch(
                    agentID: agentID,
                    agent: name,
                    epoch: UInt64(bitPattern: epoch),
                    sequence: UInt64(bitPattern: sequence),
                    hash: hash.hexString,
                    envelope: Array(envelope),
                    leafIndex: leaf.flatMap { $0 >= 0 ? UInt64($0) : nil }
                )
            }
            return nil
        }
    }

    func exportAgents(ids: Set<Int64>) async throws(StoreError) -> [AgentRecord] {
        let list = Array(ids)
        return try await self.connection { connection in
            try await Self.agents(connection, where: "WHERE id = ANY(\(list))", logger: self.logger)
        }
    }

    func exportKeyHistory(
        agentID: Int64
    ) async throws(StoreError) -> (keys: [(Bytes32, Int64, Int64?, String)], rotations: [[UInt8]]) {
        try await self.connection { connection in
            let keyRows = try await connection.query(
                """
                SELECT public_key, from_ns, until_ns, how FROM agent_keys
                WHERE agent_id = \(agentID) AND until_ns IS NOT NULL ORDER BY from_ns, id
                """,
                logger: self.logger
            )
            var keys: [(Bytes32, Int64, Int64?, String)] = []
            for try await (key, from, until, how) in keyRows.decode((Data, Int64, Int64?, String).self) {
                guard let key = Bytes32(data: key) else { continue }
                keys.append((key, from, until, how))
            }
            let records = try await connection.all(
                "SELECT record FROM rotations WHERE agent_id = \(agentID) ORDER BY id",
                Data.self,
                logger: self.logger
            )
            return (keys, records.map { Array($0) })
        }
    }

    /// The batches of `ids`, in the order of their first event.
    func reportBatches(ids: [Int64]) async throws(StoreError) -> [IncidentReport.Custody.Batch] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT a.name, b.epoch, b.seq, b.hash, b.received_ns, l.leaf_index FROM batches b
                JOIN agents a ON a.id = b.agent_id LEFT JOIN merkle_leaves l ON l.batch_id = b.id
                WHERE b.id = ANY(\(ids))
                ORDER BY (SELECT min(e.id) FROM events e WHERE e.batch_id = b.id), b.id
                """,
                logger: self.logger
            )
            var out: [IncidentReport.Custody.Batch] = []
            for try await (name, epoch, sequence, hash, received, leaf) in rows.decode(
                (String, Int64, Int64, Data, Int64, Int64?).self
            ) {
                out.append(
                    IncidentReport.Custody.Batch(
                        agent: name,
                        epoch: UInt64(bitPattern: epoch),
                        sequence: UInt64(bitPattern: sequence),
                        hash: hash.hexString,
                        receivedNanos: received,
                        leafIndex: leaf.flatMap { $0 >= 0 ? UInt64($0) : nil }
                    )
                )
            }
            return out
        }
    }
}

extension PostgresEventReader: BundleSource {
    public var path: String { self.store.location.description }

    package func exportBatch(id: Int64) throws -> ExportedBatch? {
        let store = self.store
        return try Blocking.run { try await store.exportBatch(id: id) }
    }

    package func exportAgents(ids: Set<Int64>) throws -> [AgentRecord] {
        let store = self.store
        return try Blocking.run { try await store.exportAgents(ids: ids) }
    }

    package func exportKeyHistory(
        agentID: Int64
    ) throws -> (keys: [(Bytes32, Int64, Int64?, String)], rotations: [[UInt8]]) {
        let store = self.store
        let history = try Blocking.run {
            let history = try await store.exportKeyHistory(agentID: agentID)
            return KeyHistory(
                keys: history.keys.map { KeyHistory.Key(key: $0.0, from: $0.1, until: $0.2, how: $0.3) },
                rotations: history.rotations
            )
        }
        return (history.keys.map { ($0.key, $0.from, $0.until, $0.how) }, history.rotations)
    }

    package func reportBatches(_ query: EventQuery) throws -> [IncidentReport.Custody.Batch] {
        var selection = query
        selection.limit = nil
        selection.order = .asc
        var ids: [Int64] = []
        var seen = Set<Int64>()
        _ = try self.forEachEvent(selection) { event in
            if seen.insert(event.batchID).inserted { ids.append(event.batchID) }
            return true
        }
        let (store, batchIDs) = (self.store, ids)
        return try Blocking.run { try await store.reportBatches(ids: batchIDs) }
    }

    package func lastVerifyDescription() async throws -> String? {
        try await self.store.verifyRuns().last?.description
    }

    // TransparencyStore, through the store.
    public func treeSize() async throws(StoreError) -> UInt64 { try await self.store.treeSize() }

    public func makeCheckpoint(
        signer: CheckpointSigner,
        atNanos: Int64,
        onlyWhenGrown: Bool
    ) async throws(StoreError) -> SignedCheckpoint? {
        try await self.store.makeCheckpoint(signer: signer, atNanos: atNanos, onlyWhenGrown: onlyWhenGrown)
    }

    public func checkpoints() async throws(StoreError) -> [StoredCheckpoint] { try await self.store.checkpoints() }

    public func inclusionProof(batchID: Int64, treeSize: UInt64) async throws(StoreError) -> InclusionProof? {
        try await self.store.inclusionProof(batchID: batchID, treeSize: treeSize)
    }

    public func consistencyProof(oldSize: UInt64, newSize: UInt64) async throws(StoreError) -> [Bytes32] {
        try await self.store.consistencyProof(oldSize: oldSize, newSize: newSize)
    }

    public func treeRoot(size: UInt64) async throws(StoreError) -> Bytes32 { try await self.store.treeRoot(size: size) }
}

/// A key history as a Sendable value, to cross from the task that reads it.
private struct KeyHistory: Sendable {
    struct Key: Sendable {
        var key: Bytes32
        var from: Int64
        var until: Int64?
        var how: String
    }

    var keys: [Key]
    var rotations: [[UInt8]]
}

/// `flightlog export --store`: the SQLite store's exporter and report writer on this reader. Both are async and read
/// through the reader's synchronous, blocking calls: they run with a thread of their own as executor preference
/// (``Blocking/onOwnExecutor(_:)``), never on a cooperative-pool thread.
extension PostgresEventReader: EvidenceExporting {
    public func export(
        _ query: EventQuery,
        to directory: String,
        checkpointKey: BundleCheckpointKey?,
        who: String,
        command: [String],
        filters: [(String, String)],
        report: ReportOptions?,
        now: Int64
    ) async throws -> ExportSummary {
        try await Blocking.onOwnExecutor {
            try await EvidenceExporter.export(
                store: self,
                query: query,
                to: directory,
                checkpointKey: checkpointKey,
                who: who,
                command: command,
                filters: filters,
                report: report,
                now: now
            )
        }
    }

    public func incidentReport(_ query: EventQuery, options: ReportOptions, now: Int64) async throws -> IncidentReport {
        try await Blocking.onOwnExecutor {
            try await ReportGatherer.report(store: self, query: query, options: options, custody: nil, now: now)
        }
    }
}

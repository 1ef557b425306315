import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore: BundleSource {
    package func exportBatch(id: Int64) throws -> ExportedBatch? {
        try self.pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        """
                        SELECT b.agent_id, a.name, b.epoch, b.seq, b.hash, b.envelope, l.leaf_index FROM batches b
                        JOIN agents a ON a.id = b.agent_id LEFT JOIN merkle_leaves l ON l.batch_id = b.id
                        WHERE b.id = ?
                        """,
                    arguments: [id]
                )
            else { return nil }
            return ExportedBatch(
                agentID: try row.decode(Int64.self, atIndex: 0),
                agent: try row.decode(String.self, atIndex: 1),
                epoch: try row.decode(Int64.self, atIndex: 2).unsignedValue,
                sequence: try row.decode(Int64.self, atIndex: 3).unsignedValue,
                hash: try row.decode(Data.self, atIndex: 4).hexString,
                envelope: Array(try row.decode(Data.self, atIndex: 5)),
                leafIndex: Int64.fromDatabaseValue(row[6]).flatMap { $0 >= 0 ? UInt64($0) : nil }
            )
        }
    }

    package func exportAgents(ids: Set<Int64>) throws -> [AgentRecord] {
        try self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY name").compactMap { try AgentRecord(row: $0) }
                .filter { ids.contains($0.id) }
        }
    }

    /// The keys an agent held before its current one (oldest first: raw key, from, until, how) and its rotation
    /// records, for keys.json.
    package func exportKeyHistory(
        agentID: Int64
    ) throws -> (keys: [(Bytes32, Int64, Int64?, String)], rotations: [[UInt8]]) {
        try self.pool.read { db in
            guard try db.tableExists("agent_keys") else { return ([], []) }
            let keys = try Row.fetchAll(
                db,
                sql: """
                    SELECT public_key, from_ns, until_ns, how FROM agent_keys
                    WHERE agent_id = ? AND until_ns IS NOT NULL ORDER BY from_ns, id
                    """,
                arguments: [agentID]
            ).compactMap { row -> (Bytes32, Int64, Int64?, String)? in
                guard let key = Bytes32(data: try row.decode(Data.self, atIndex: 0)) else { return nil }
                return (
                    key, try row.decode(Int64.self, atIndex: 1), try row.decode(Int64?.self, atIndex: 2),
                    try row.decode(String.self, atIndex: 3)
                )
            }
            let rotations = try Data.fetchAll(
                db,
                sql: "SELECT record FROM rotations WHERE agent_id = ? ORDER BY id",
                arguments: [agentID]
            ).map { Array($0) }
            return (keys, rotations)
        }
    }

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

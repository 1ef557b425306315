import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore {
    func copiedAgents() async throws(StoreError) -> [CopiedAgent] {
        try await self.read { db in
            var agents: [Int64: CopiedAgent] = [:]
            var order: [Int64] = []
            for row in try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY id") {
                guard let record = try AgentRecord(row: row) else { continue }
                agents[record.id] = CopiedAgent(record: record, keys: [])
                order.append(record.id)
            }
            for row in try Row.fetchAll(
                db,
                sql: "SELECT agent_id, public_key, key_id, from_ns, until_ns, how FROM agent_keys ORDER BY id"
            ) {
                guard let agentID = Int64.fromDatabaseValue(row[0]),
                    let key = Bytes32(data: Data.fromDatabaseValue(row[1])),
                    let keyID = Bytes32(data: Data.fromDatabaseValue(row[2])),
                    let from = Int64.fromDatabaseValue(row[3])
                else { continue }
                agents[agentID]?.keys.append(
                    CopiedAgent.Key(
                        publicKey: key,
                        keyID: keyID,
                        fromNanos: from,
                        untilNanos: Int64.fromDatabaseValue(row[4]),
                        how: String.fromDatabaseValue(row[5]) ?? "enrolled"
                    )
                )
            }
            return order.compactMap { agents[$0] }
        }
    }

    func copiedBatches(afterID: Int64, limit: Int) async throws(StoreError) -> [CopiedBatch] {
        try await self.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT b.id, a.name, b.envelope, b.received_ns FROM batches b JOIN agents a ON a.id = b.agent_id
                    WHERE b.id > ? ORDER BY b.id LIMIT ?
                    """,
                arguments: [afterID, limit]
            ).compactMap { row in
                guard let id = Int64.fromDatabaseValue(row[0]), let agent = String.fromDatabaseValue(row[1]),
                    let envelope = Data.fromDatabaseValue(row[2]), let received = Int64.fromDatabaseValue(row[3])
                else { return nil }
                return CopiedBatch(id: id, agent: agent, envelope: Array(envelope), receivedNanos: received)
            }
        }
    }

    func copiedFindings() async throws(StoreError) -> [(agent: String?, finding: ChainFinding)] {
        let kinds: [ChainFinding.Kind] = [.equivocation, .chainBroken, .rejectedBatch, .reenrolled, .enrolmentRefused]
        let names = try await self.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name FROM agents").reduce(into: [Int64: String]()) { names, row in
                if let id = Int64.fromDatabaseValue(row[0]), let name = String.fromDatabaseValue(row[1]) {
                    names[id] = name
                }
            }
        }
        return try await self.findings(agentID: nil).filter { kinds.contains($0.kind) }.map { finding in
            (finding.agentID.flatMap { names[$0] }, finding)
        }
    }
}

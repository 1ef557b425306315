public import FlightlogStore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// How many stored batches each aggregator node received, by node name.
    public func batchesPerNode() async throws(StoreError) -> [String: Int] {
        try await self.connection { connection in
            let rows = try await connection.query(
                "SELECT node, count(*) FROM batches GROUP BY node",
                logger: self.logger
            )
            var counts: [String: Int] = [:]
            for try await (node, count) in rows.decode((String, Int).self) { counts[node] = count }
            return counts
        }
    }

    /// The node each agent last completed a handshake with, by agent name: where it ships now, unless it failed over
    /// since and has not finished its next handshake.
    public func currentNodes() async throws(StoreError) -> [String: String] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT DISTINCT ON (agent_name) agent_name, node FROM handshakes
                WHERE outcome = 'accepted' AND agent_name IS NOT NULL ORDER BY agent_name, id DESC
                """,
                logger: self.logger
            )
            var nodes: [String: String] = [:]
            for try await (agent, node) in rows.decode((String, String).self) { nodes[agent] = node }
            return nodes
        }
    }
}

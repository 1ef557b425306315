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

/// One aggregator node as the shared store knows it: what it stored, and its agents' handshakes.
public struct NodeSummary: Sendable, Equatable {
    public var node: String
    public var batches: Int
    public var events: Int
    /// When it last stored a batch (its receipt time), if ever.
    public var lastBatchNanos: Int64?
    /// When an agent last completed a handshake with it, if ever.
    public var lastHandshakeNanos: Int64?
    /// The agents whose latest handshake was with it.
    public var agents: Int
}

extension PostgresStore {
    /// Every node that stored a batch or took a handshake, by name: `flightlog status --store`.
    public func nodeSummaries() async throws(StoreError) -> [NodeSummary] {
        try await self.connection { connection in
            var summaries: [String: NodeSummary] = [:]
            func summary(_ node: String) -> NodeSummary {
                summaries[node]
                    ?? NodeSummary(
                        node: node,
                        batches: 0,
                        events: 0,
                        lastBatchNanos: nil,
                        lastHandshakeNanos: nil,
                        agents: 0
                    )
            }
            let batches = try await connection.query(
                "SELECT node, count(*), COALESCE(sum(event_count), 0), max(received_ns) FROM batches GROUP BY node",
                logger: self.logger
            )
            for try await (node, count, events, last) in batches.decode((String, Int, Int, Int64?).self) {
                var entry = summary(node)
                (entry.batches, entry.events, entry.lastBatchNanos) = (count, events, last)
                summaries[node] = entry
            }
            let handshakes = try await connection.query(
                "SELECT node, max(at_ns) FROM handshakes WHERE outcome = 'accepted' GROUP BY node",
                logger: self.logger
            )
            for try await (node, last) in handshakes.decode((String, Int64?).self) {
                var entry = summary(node)
                entry.lastHandshakeNanos = last
                summaries[node] = entry
            }
            for (_, node) in try await self.currentNodes() {
                var entry = summary(node)
                entry.agents += 1
                summaries[node] = entry
            }
            return summaries.values.sorted { $0.node < $1.node }
        }
    }
}

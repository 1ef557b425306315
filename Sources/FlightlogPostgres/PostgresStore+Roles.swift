public import FlightlogStore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Gives two existing roles what they need and nothing more (`flightlog store-roles`, run as the schema's
    /// owner): `serve` what `flightlog serve` does (read, append batches, events, leaves, findings and handshakes;
    /// move chain heads, the log's size and an agent's last-seen columns), `read` what investigators do (read
    /// everything, append to the audit trail). Neither may update or delete a batch, an event, a leaf, a checkpoint
    /// or an audit row, or create a table: the month partitions are made by a function that runs as the owner.
    /// Enrolment by key, revocation, token issue and `copy-store` stay with the owner.
    public func grantRoles(serve: String?, read: String?) async throws(StoreError) {
        for role in [serve, read].compactMap({ $0 }) {
            guard role.utf8.count <= 63, role.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
                role.first?.isLetter == true
            else {
                throw StoreError.database("'\(role)' is not a role name this command takes (letters, digits, _)")
            }
        }
        let tables = [
            "agents", "agent_keys", "chains", "batches", "events", "catalogue", "findings", "handshakes",
            "merkle_state", "merkle_leaves", "merkle_nodes", "checkpoints", "audit", "flightlog_schema",
            "enrolment_tokens", "rotations", "verify_runs",
        ]
        var statements = [
            // The month partitions: created as the owner, by whoever may call the function.
            "ALTER FUNCTION flightlog_month_partition(TEXT, BIGINT, BIGINT) SECURITY DEFINER",
            "ALTER FUNCTION flightlog_month_partition(TEXT, BIGINT, BIGINT) SET search_path = \(Self.schemaName)",
            "REVOKE ALL ON FUNCTION flightlog_month_partition(TEXT, BIGINT, BIGINT) FROM PUBLIC",
        ]
        if let serve {
            statements += tables.map { "REVOKE ALL ON \($0) FROM \(serve)" }
            statements += [
                "GRANT SELECT ON \(tables.joined(separator: ", ")) TO \(serve)",
                "GRANT INSERT ON batches, events, catalogue, findings, handshakes, merkle_leaves, merkle_nodes, "
                    + "checkpoints, chains TO \(serve)",
                "GRANT UPDATE (head_seq, head_hash, updated_ns, batches, events) ON chains TO \(serve)",
                "GRANT UPDATE (size) ON merkle_state TO \(serve)",
                "GRANT UPDATE (last_seen_ns, last_skew_ns, last_address) ON agents TO \(serve)",
                // Token enrolment and key rotation, which agents ask of serve: a new agent, a key replaced, the
                // token's use, the record. Never a revocation undone: revoked_ns is not among the columns.
                "GRANT INSERT ON agents, agent_keys, rotations, audit TO \(serve)",
                "GRANT UPDATE (public_key, key_id) ON agents TO \(serve)",
                "GRANT UPDATE (until_ns) ON agent_keys TO \(serve)",
                "GRANT UPDATE (used_ns, used_key, used_peer) ON enrolment_tokens TO \(serve)",
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA \(Self.schemaName) TO \(serve)",
                "GRANT EXECUTE ON FUNCTION flightlog_month_partition(TEXT, BIGINT, BIGINT) TO \(serve)",
                "GRANT USAGE ON SCHEMA \(Self.schemaName) TO \(serve)",
            ]
        }
        if let read {
            statements += tables.map { "REVOKE ALL ON \($0) FROM \(read)" }
            statements += [
                "GRANT SELECT ON \(tables.joined(separator: ", ")) TO \(read)",
                // The investigators' audit entries, and the record of their scheduled `verify` runs.
                "GRANT INSERT ON audit, verify_runs TO \(read)",
                "GRANT USAGE ON SCHEMA \(Self.schemaName) TO \(read)",
            ]
        }
        try await self.transaction { connection in
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
            }
        }
    }

    /// The schema the store's tables are in.
    static let schemaName = "public"
}

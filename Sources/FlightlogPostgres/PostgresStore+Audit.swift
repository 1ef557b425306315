public import FlightlogStore
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// Appends `entry` to the investigators' audit trail (the SQLite store's hash chain, AuditTrail.swift), in a
    /// transaction that holds an advisory lock so that investigators on several machines append one after the other
    /// (an advisory lock: the investigators' role may insert into the table, not lock it).
    @discardableResult
    public func recordAudit(_ entry: AuditEntry) async throws(StoreError) -> AuditEntry {
        try await self.transaction { connection in try await self.appendAudit(entry, connection) }
    }

    /// Appends `entry` inside the caller's transaction, chained to the last row: for records that must commit with
    /// what they record (a token issued, an agent enrolled by one).
    @discardableResult
    func appendAudit(_ entry: AuditEntry, _ connection: PostgresConnection) async throws -> AuditEntry {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.auditLock))", logger: self.logger)
        var stored = entry
        var lastID: Int64 = 0
        var previous = [UInt8](repeating: 0, count: 32)
        let rows = try await connection.query(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
            logger: self.logger
        )
        for try await (id, hash) in rows.decode((Int64, Data).self) {
            lastID = id
            previous = Array(hash)
        }
        guard lastID < Int64.max else {
            throw StoreError.database("the audit trail's last row id is \(lastID): no id is left after it")
        }
        stored.id = lastID + 1
        stored.previousHash = previous
        stored.hash = AuditTrail.hash(stored)
        try await connection.query(
            """
            INSERT INTO audit (id, at_ns, who, command, arguments, result_count, outcome, prev_hash, hash)
            VALUES (\(lastID + 1), \(stored.atNanos), \(stored.who), \(stored.command),
                    \(AuditTrail.argumentsJSON(stored.arguments)), \(stored.resultCount), \(stored.outcome),
                    \(Data(stored.previousHash)), \(Data(stored.hash)))
            """,
            logger: self.logger
        )
        return stored
    }

    /// The advisory lock key of audit appends.
    static let auditLock: Int64 = 0x466c_6967_4175_6474  // "FligAudt"

    /// The audit trail, oldest first, with each row's stored hashes; a row whose arguments are not a JSON array of
    /// strings is returned with none.
    public func auditEntries() async throws(StoreError) -> [AuditEntry] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT id, at_ns, who, command, arguments, result_count, outcome, prev_hash, hash
                FROM audit ORDER BY id
                """,
                logger: self.logger
            )
            var out: [AuditEntry] = []
            for try await row in rows.decode((Int64, Int64, String, String, String, Int64?, String, Data, Data).self) {
                out.append(
                    AuditEntry(
                        id: row.0,
                        atNanos: row.1,
                        who: row.2,
                        command: row.3,
                        arguments: AuditTrail.arguments(fromJSON: row.4) ?? [],
                        resultCount: row.5,
                        outcome: row.6,
                        previousHash: Array(row.7),
                        hash: Array(row.8)
                    )
                )
            }
            return out
        }
    }

    /// The audit trail's chain re-checked: each row links to the one before and its content gives its hash.
    func auditFindings() async throws(StoreError) -> [VerifyFinding] {
        var findings: [VerifyFinding] = []
        var previous = [UInt8](repeating: 0, count: 32)
        var expectedID: Int64 = 1
        for entry in try await self.auditEntries() {
            let id = entry.id ?? 0
            if id != expectedID {
                findings.append(
                    VerifyFinding(.auditChain, rowID: id, "audit row \(id): expected row \(expectedID) here")
                )
            }
            if entry.previousHash != previous {
                findings.append(
                    VerifyFinding(.auditChain, rowID: id, "audit row \(id) does not link to the row before it")
                )
            }
            var recomputed = entry
            recomputed.hash = []
            if AuditTrail.hash(recomputed) != entry.hash {
                findings.append(
                    VerifyFinding(.auditChain, rowID: id, "audit row \(id): its content does not match its hash")
                )
            }
            previous = entry.hash
            expectedID = id &+ 1
        }
        return findings
    }
}

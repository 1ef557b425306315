import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore {
    /// The audit trail, oldest first.
    public func auditEntries() throws(StoreError) -> [AuditEntry] {
        do {
            return try self.pool.read { db in
                guard try db.tableExists("audit") else { return [] }
                return try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id").map { row in
                    let arguments = try row.decode(String.self, forColumn: "arguments")
                    return AuditEntry(
                        id: try row.decode(Int64.self, forColumn: "id"),
                        atNanos: try row.decode(Int64.self, forColumn: "at_ns"),
                        who: try row.decode(String.self, forColumn: "who"),
                        command: try row.decode(String.self, forColumn: "command"),
                        arguments: AuditTrail.arguments(fromJSON: arguments) ?? [arguments],
                        resultCount: try row.decode(Int64?.self, forColumn: "result_count"),
                        outcome: try row.decode(String.self, forColumn: "outcome"),
                        previousHash: Array(try row.decode(Data?.self, forColumn: "prev_hash") ?? Data()),
                        hash: Array(try row.decode(Data?.self, forColumn: "hash") ?? Data())
                    )
                }
            }
        } catch {
            throw StoreError.database("\(error)")
        }
    }

    /// Re-checks the audit trail's hash chain: every row's stored hash, and its link to the row before.
    ///
    /// Rows whose arguments are not a JSON array of strings are reported, since they cannot have been written by
    /// ``AuditTrail/record(_:databasePath:)``.
    public func verifyAuditTrail() throws(StoreError) -> AuditVerification {
        do {
            return try self.pool.read { db in try AuditTrail.verify(db) }
        } catch {
            throw StoreError.database("\(error)")
        }
    }
}

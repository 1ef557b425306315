import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// The append-only, hash-chained record of investigators' commands (table `audit`, migration "v3 audit trail").
///
/// Each row stores `hash = SHA-256(previous row's hash ‖ canonical content)`, the first row chaining to 32 zero
/// bytes. The canonical content is `"FLIGHTLOG-AUDIT-V1\0"`, then id and time as 8-byte big-endian integers, then
/// who, command, arguments (a JSON array of strings) as 4-byte big-endian length + UTF-8, the result count as an
/// 8-byte big-endian integer (-1 for none) and the outcome as length + UTF-8. Editing, inserting or deleting a row
/// in the middle breaks the chain; removing the newest rows is only detectable against a copied head hash.
public enum AuditTrail {
    static let context: [UInt8] = Array("FLIGHTLOG-AUDIT-V1".utf8) + [0]

    /// Who is running this process, for the `who` column.
    public static func currentUser() -> String {
        Self.currentUser(environment: ProcessInfo.processInfo.environment)
    }

    static func currentUser(environment: [String: String]) -> String {
        let uid = getuid()
        let name =
            environment["SUDO_USER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["USER"].flatMap { $0.isEmpty ? nil : $0 }
        if let sudo = environment["SUDO_USER"], !sudo.isEmpty { return "\(sudo) (sudo, uid \(uid))" }
        return name.map { "\($0) (uid \(uid))" } ?? "uid \(uid)"
    }

    /// Appends `entry` to the audit trail of the database at `databasePath`: the one write investigators' commands
    /// make, through its own short-lived connection and an immediate transaction so that it waits its turn behind
    /// ingestion instead of failing.
    @discardableResult
    public static func record(_ entry: AuditEntry, databasePath: String) throws(StoreError) -> AuditEntry {
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.label = "flightlog-audit"
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        do {
            let queue = try DatabaseQueue(path: databasePath, configuration: config)
            return try queue.writeWithoutTransaction { db in
                var stored = entry
                try db.inTransaction(.immediate) {
                    stored = try Self.append(entry, to: db)
                    return .commit
                }
                return stored
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database("cannot record the audit entry: \(error)")
        }
    }

    /// Appends `entry` inside the caller's write transaction, chained to the last row; returns it as stored. For
    /// records that must commit with what they record (a token redeemed and the agent it enrolled).
    static func append(_ entry: AuditEntry, to db: Database) throws -> AuditEntry {
        guard try db.tableExists("audit") else {
            throw StoreError.database(
                "the database has no audit table yet: run `flightlog serve` of this version on it once to migrate it"
            )
        }
        var stored = entry
        let last = try Row.fetchOne(db, sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
        let lastID = try last?.decode(Int64.self, forColumn: "id") ?? 0
        guard lastID < Int64.max else {
            throw StoreError.database("the audit trail's last row id is \(lastID): no id is left after it")
        }
        stored.id = lastID + 1
        stored.previousHash =
            try last?.decode(Data?.self, forColumn: "hash").map { Array($0) } ?? [UInt8](repeating: 0, count: 32)
        stored.hash = Self.hash(stored)
        try db.execute(
            sql: """
                INSERT INTO audit (id, at_ns, who, command, arguments, result_count, outcome, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                stored.id, stored.atNanos, stored.who, stored.command, Self.argumentsJSON(stored.arguments),
                stored.resultCount, stored.outcome, Data(stored.previousHash), Data(stored.hash),
            ]
        )
        return stored
    }

    /// The chained hash of `entry` (its `previousHash` included).
    public static func hash(_ entry: AuditEntry) -> [UInt8] {
        var message = entry.previousHash
        message += Self.context
        func int(_ value: Int64) {
            withUnsafeBytes(of: value.bigEndian) { message += $0 }
        }
        func text(_ value: String) {
            let bytes = Array(value.utf8)
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: bytes.count).bigEndian) { message += $0 }
            message += bytes
        }
        int(entry.id ?? 0)
        int(entry.atNanos)
        text(entry.who)
        text(entry.command)
        text(Self.argumentsJSON(entry.arguments))
        int(entry.resultCount ?? -1)
        text(entry.outcome)
        return Array(SHA256.hash(data: message))
    }

    public static func argumentsJSON(_ arguments: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, argument) in arguments.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            FieldsJSON.appendString(argument, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    public static func arguments(fromJSON text: String) -> [String]? {
        guard let data = text.data(using: .utf8),
            let array = try? JSONSerialization.jsonObject(with: data) as? [Any]
        else { return nil }
        let strings = array.compactMap { $0 as? String }
        return strings.count == array.count ? strings : nil
    }
}

extension AuditTrail {
    /// Re-checks the audit trail's hash chain inside an open read (so that `flightlog verify` checks it in the same
    /// snapshot as everything else).
    static func verify(_ db: Database) throws -> AuditVerification {
        guard try db.tableExists("audit") else { return AuditVerification(rows: 0, headHash: nil, problems: []) }
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id")
        var problems: [AuditProblem] = []
        var previous = [UInt8](repeating: 0, count: 32)
        var expectedID: Int64 = 1
        var head: String?
        for row in rows {
            // Read without GRDB's subscripts, which stop the process on a value of another type: an edited row is a
            // problem to report. The id is the rowid, always an integer.
            let id = Int64.fromDatabaseValue(row["id"]) ?? 0
            let storedPrevious = Array(Data.fromDatabaseValue(row["prev_hash"]) ?? Data())
            let storedHash = Array(Data.fromDatabaseValue(row["hash"]) ?? Data())
            if id != expectedID {
                problems.append(AuditProblem(id: id, detail: "expected row \(expectedID) here: rows are missing"))
            }
            if storedPrevious != previous {
                problems.append(
                    AuditProblem(
                        id: id,
                        detail: "does not link to the row before it (a row was removed, inserted or edited)"
                    )
                )
            }
            let argumentsText = String.fromDatabaseValue(row["arguments"]) ?? ""
            guard let arguments = AuditTrail.arguments(fromJSON: argumentsText) else {
                problems.append(AuditProblem(id: id, detail: "its arguments are not a JSON array of strings"))
                previous = storedHash
                expectedID = id.addingSaturating(1)
                continue
            }
            let resultCount = row["result_count"] as DatabaseValue
            guard let atNanos = Int64.fromDatabaseValue(row["at_ns"]), let who = String.fromDatabaseValue(row["who"]),
                let command = String.fromDatabaseValue(row["command"]),
                let outcome = String.fromDatabaseValue(row["outcome"]),
                resultCount.isNull || Int64.fromDatabaseValue(resultCount) != nil
            else {
                problems.append(
                    AuditProblem(id: id, detail: "a value is not of its column's type (the row was edited)")
                )
                previous = storedHash
                expectedID = id.addingSaturating(1)
                continue
            }
            let entry = AuditEntry(
                id: id,
                atNanos: atNanos,
                who: who,
                command: command,
                arguments: arguments,
                resultCount: Int64.fromDatabaseValue(resultCount),
                outcome: outcome,
                previousHash: storedPrevious
            )
            if AuditTrail.argumentsJSON(arguments) != argumentsText || AuditTrail.hash(entry) != storedHash {
                problems.append(
                    AuditProblem(id: id, detail: "its content does not match its hash (the row was edited)")
                )
            }
            previous = storedHash
            expectedID = id.addingSaturating(1)
            head = storedHash.hexString
        }
        return AuditVerification(rows: rows.count, headHash: head, problems: problems)
    }
}

import Crypto
import FlightlogWire
import Foundation
import GRDB

/// What an export wrote.
public struct ExportSummary: Sendable, Equatable {
    public var events: Int
    public var batches: Int
    public var agents: Int
    /// SHA-256 (hex) of manifest.json, to write down in the case notes: it pins every other file.
    public var manifestSHA256: String
}

/// Writes an evidence bundle: the selected events, the signed batches holding them, the agents' public keys, a
/// manifest of SHA-256 hashes and a README, so that a recipient can check it offline with ``BundleVerifier``.
///
/// ```
/// DIR/events.jsonl        one EventJSON object a line, times in UTC
/// DIR/batches/*.flb       each batch's signed envelope, byte for byte as the agent signed it
/// DIR/keys.json           {"agents":[{"name","public_key" (base64),"key_id" (hex),"enrolled","revoked"}]}
/// DIR/manifest.json       format, who/when/command/filters, counts, and path + bytes + sha256 of every file
/// DIR/README.txt          what the recipient has and how to check it
/// ```
public enum EvidenceExporter {
    public static let format = "flightlog-evidence-bundle-1"

    /// Exports what `query` selects into the new (or empty) directory `directory`.
    public static func export(
        store: SQLiteStore,
        query: EventQuery,
        to directory: String,
        who: String,
        command: [String],
        filters: [(String, String)],
        now: Int64
    ) throws -> ExportSummary {
        try Self.prepare(directory)
        try FileManager.default.createDirectory(atPath: directory + "/batches", withIntermediateDirectories: false)
        var files: [(path: String, bytes: Int, sha256: String)] = []

        let events = try BufferedWriter(creatingFile: directory + "/events.jsonl")
        var batchIDs: [Int64] = []
        var seenBatches = Set<Int64>()
        let count = try store.forEachEvent(query) { event in
            var line = EventJSON.encode(event)
            line.append(UInt8(ascii: "\n"))
            events.write(line)
            if seenBatches.insert(event.batchID).inserted { batchIDs.append(event.batchID) }
            return true
        }
        files.append(("events.jsonl", events.byteCount, try events.finish() ?? ""))

        var batchEntries: [String] = []
        var agentIDs = Set<Int64>()
        for batchID in batchIDs {
            guard let batch = try store.exportBatch(id: batchID) else { continue }
            agentIDs.insert(batch.agentID)
            let name = "batches/\(Self.safeName(batch.agent))-e\(batch.epoch)-s\(batch.sequence).flb"
            let writer = try BufferedWriter(creatingFile: directory + "/" + name)
            writer.write(batch.envelope)
            let hash = try writer.finish() ?? ""
            files.append((name, batch.envelope.count, hash))
            var entry: [UInt8] = Array("{\"file\":".utf8)
            FieldsJSON.appendString(name, to: &entry)
            entry += ",\"agent\":".utf8
            FieldsJSON.appendString(batch.agent, to: &entry)
            entry += ",\"epoch\":\(batch.epoch),\"seq\":\(batch.sequence),\"batch_hash\":\"\(batch.hash)\"}".utf8
            batchEntries.append(String(decoding: entry, as: UTF8.self))
        }

        let agents = try store.exportAgents(ids: agentIDs)
        var keys: [UInt8] = Array("{\"agents\":[\n".utf8)
        for (index, agent) in agents.enumerated() {
            keys += (index > 0 ? ",\n" : "").utf8
            keys += "  {\"name\":".utf8
            FieldsJSON.appendString(agent.name, to: &keys)
            keys +=
                ",\"public_key\":\"\(Data(agent.publicKey.bytes).base64EncodedString())\",\"key_id\":\"\(agent.keyID.hex)\""
                .utf8
            keys += ",\"enrolled\":\"\(Timestamp.rfc3339(agent.enrolledNanos))\",\"revoked\":".utf8
            keys += (agent.revokedNanos.map { "\"\(Timestamp.rfc3339($0))\"" } ?? "null").utf8
            keys += "}".utf8
        }
        keys += "\n]}\n".utf8
        files.append(("keys.json", keys.count, try Self.write(keys, to: directory + "/keys.json")))

        let readme = Self.readme(events: count, batches: batchIDs.count, agents: agents.count, who: who, now: now)
        files.append(
            ("README.txt", readme.utf8.count, try Self.write(Array(readme.utf8), to: directory + "/README.txt"))
        )

        var manifest: [UInt8] = Array(
            "{\n  \"format\": \"\(Self.format)\",\n  \"created\": \"\(Timestamp.rfc3339(now))\",\n  \"created_by\": "
                .utf8
        )
        FieldsJSON.appendString(who, to: &manifest)
        manifest += ",\n  \"command\": ".utf8
        manifest += AuditTrail.argumentsJSON(command).utf8
        manifest += ",\n  \"filters\": {".utf8
        for (index, filter) in filters.enumerated() {
            if index > 0 { manifest.append(UInt8(ascii: ",")) }
            FieldsJSON.appendString(filter.0, to: &manifest)
            manifest.append(UInt8(ascii: ":"))
            FieldsJSON.appendString(filter.1, to: &manifest)
        }
        manifest +=
            "},\n  \"counts\": {\"events\": \(count), \"batches\": \(batchIDs.count), \"agents\": \(agents.count)},\n"
            .utf8
        manifest += "  \"batches\": [\n    ".utf8
        manifest += batchEntries.joined(separator: ",\n    ").utf8
        manifest += "\n  ],\n  \"files\": [\n".utf8
        for (index, file) in files.enumerated() {
            manifest += "    {\"path\":".utf8
            FieldsJSON.appendString(file.path, to: &manifest)
            manifest +=
                ",\"bytes\":\(file.bytes),\"sha256\":\"\(file.sha256)\"}\(index == files.count - 1 ? "" : ",")\n".utf8
        }
        manifest += "  ]\n}\n".utf8
        let manifestHash = try Self.write(manifest, to: directory + "/manifest.json")
        return ExportSummary(events: count, batches: batchIDs.count, agents: agents.count, manifestSHA256: manifestHash)
    }

    /// Agent names become file names: anything but letters, digits, `.`, `_` and `-` turns into `_`.
    static func safeName(_ name: String) -> String {
        let safe = String(
            String.UnicodeScalarView(
                name.unicodeScalars.map {
                    ($0.isASCII
                        && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)))
                        ? $0 : "_"
                }
            )
        )
        return safe.hasPrefix(".") ? "_" + safe : safe
    }

    private static func prepare(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try FileManager.default.contentsOfDirectory(atPath: directory)).isEmpty else {
                throw StoreError.cannotOpen(path: directory, reason: "the export directory must be new or empty")
            }
        } else {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws -> String {
        let writer = try BufferedWriter(creatingFile: path)
        writer.write(bytes)
        return try writer.finish() ?? ""
    }

    private static func readme(events: Int, batches: Int, agents: Int, who: String, now: Int64) -> String {
        """
        Flightlog evidence bundle
        =========================

        Exported \(Timestamp.rfc3339(now)) by \(who): \(events) events from \(batches) signed batches of \(agents) agents.

        What is here
          events.jsonl   the selected events, one JSON object a line. "message" is the raw log line; when it is
                         not valid UTF-8, "message_b64" holds the exact bytes. "batch" names the signed batch
                         (agent, epoch, seq) and the event's index inside it. Times are UTC, RFC 3339.
          batches/       every signed batch that holds an exported event, byte for byte as the agent signed it
                         (format: protocol/PROTOCOL.md of Flightlog, "FLB1" envelopes, Ed25519 signatures).
          keys.json      the agents' Ed25519 public keys (base64) as enrolled on the aggregator.
          manifest.json  who exported what, when, with which filters, and the SHA-256 of every file above.

        How to check it, offline and without the database
          flightlog verify-bundle DIR

        It checks the SHA-256 of every file against manifest.json, every batch's Ed25519 signature against
        keys.json, and that every event in events.jsonl is byte for byte the event at its index inside its signed
        batch. Exit 0 means all of that holds.

        What it does not prove
          - The batch signatures prove which agent key produced the lines; that the key belongs to the named
            workstation rests on the enrolment record (compare keys.json with your own copy of the keys).
          - "id" and "received" are the aggregator's bookkeeping, not signed by the agent.
          - manifest.json itself is not signed: record its SHA-256 (printed by `flightlog export`) in your case
            notes to pin the whole bundle.
          - Events outside the selection, and batches the aggregator never received, are not in the bundle.

        """
    }
}

struct ExportedBatch {
    var agentID: Int64
    var agent: String
    var epoch: UInt64
    var sequence: UInt64
    var hash: String
    var envelope: [UInt8]
}

extension SQLiteStore {
    func exportBatch(id: Int64) throws -> ExportedBatch? {
        try self.pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT b.agent_id, a.name, b.epoch, b.seq, b.hash, b.envelope FROM batches b JOIN agents a ON a.id = b.agent_id WHERE b.id = ?",
                    arguments: [id]
                )
            else { return nil }
            return ExportedBatch(
                agentID: row[0],
                agent: row[1],
                epoch: (row[2] as Int64).unsignedValue,
                sequence: (row[3] as Int64).unsignedValue,
                hash: (row[4] as Data).hexString,
                envelope: Array(row[5] as Data)
            )
        }
    }

    func exportAgents(ids: Set<Int64>) throws -> [AgentRecord] {
        try self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM agents ORDER BY name").compactMap(AgentRecord.init(row:))
                .filter { ids.contains($0.id) }
        }
    }
}

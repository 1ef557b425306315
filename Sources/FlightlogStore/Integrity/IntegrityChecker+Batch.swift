import Crypto
import Dispatch
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension IntegrityChecker {
    /// One `batches` row as read, before any check: values that are not readable are nil.
    struct BatchColumns: Sendable {
        var id: Int64
        var agentID: Int64?
        var epoch: Int64?
        var sequence: Int64?
        var hash: Data?
        var previousHash: Data?
        var createdNanos: Int64?
        var firstNanos: Int64?
        var lastNanos: Int64?
        var eventCount: Int64?
        var receivedNanos: Int64?
        var firstEventID: Int64?
        var envelope: Data?
        var inScope: Bool

        /// `row` is the pass's batch query: the columns of ``IntegrityChecker/batchColumnsSQL`` in that order.
        init?(_ row: Row) {
            guard let id = Int64.fromDatabaseValue(row[0]) else { return nil }
            self.id = id
            self.agentID = Int64.fromDatabaseValue(row[1])
            self.epoch = Int64.fromDatabaseValue(row[2])
            self.sequence = Int64.fromDatabaseValue(row[3])
            self.hash = Data.fromDatabaseValue(row[4])
            self.previousHash = Data.fromDatabaseValue(row[5])
            self.createdNanos = Int64.fromDatabaseValue(row[6])
            self.firstNanos = Int64.fromDatabaseValue(row[7])
            self.lastNanos = Int64.fromDatabaseValue(row[8])
            self.eventCount = Int64.fromDatabaseValue(row[9])
            self.receivedNanos = Int64.fromDatabaseValue(row[10])
            self.firstEventID = Int64.fromDatabaseValue(row[11])
            self.envelope = Data.fromDatabaseValue(row[12])
            self.inScope = (Int64.fromDatabaseValue(row[13]) ?? 0) != 0
        }

        /// The event count from the column, bounded by the wire limit (it sizes the id range walked).
        var boundedEventCount: Int {
            Int(max(0, min(self.eventCount ?? 0, Int64(WireLimits.maxEventsPerBatch))))
        }
    }

    /// What checking one batch found, computed off the database thread and applied in batch order so that findings
    /// come out in the same order whatever the scheduling.
    struct BatchExamination: Sendable {
        var columns: BatchColumns
        var findings: [VerifyFinding] = []
        var eventCount: Int
        /// The events, only when the signature verified (the rows are compared with authentic events only).
        var events: AuthenticEvents?
        var entry: ChainEntry?
        var leaf: Bytes32?
        var envelopeBytes = 0
        var checked = false
    }

    /// Uses only a batch's columns (out of scope): its chain place and its leaf from what the row says.
    static func examineColumnsOnly(_ b: BatchColumns, agents: [Int64: Agent]) -> BatchExamination {
        let count = b.boundedEventCount
        var result = BatchExamination(columns: b, eventCount: count)
        guard let agentID = b.agentID, let epoch = b.epoch, let seq = b.sequence else { return result }
        let hash = Bytes32(data: b.hash)
        let entry = ChainEntry(
            batchID: b.id,
            agentID: agentID,
            epoch: epoch.unsignedValue,
            sequence: seq.unsignedValue,
            hash: hash,
            previousHash: Bytes32(data: b.previousHash),
            eventCount: Int64(count),
            inScope: false
        )
        result.entry = entry
        if let hash, let received = b.receivedNanos, let keyID = agents[agentID]?.keyID(at: received) {
            result.leaf =
                TransparencyLeaf(
                    keyID: keyID,
                    epoch: entry.epoch,
                    sequence: entry.sequence,
                    receivedNanos: received,
                    batchHash: hash
                ).hash
        }
        return result
    }

    /// Checks one stored batch: envelope, hash, columns, key, signature, receipt time; keeps its events when they
    /// are authentic (signature verified), for the row comparison. Pure: safe to run on any thread.
    static func examine(_ b: BatchColumns, agents: [Int64: Agent], tokenizers: EventTokenizers) -> BatchExamination {
        guard b.inScope else { return Self.examineColumnsOnly(b, agents: agents) }
        let id = b.id
        let agentID = b.agentID
        let columnEpoch = b.epoch?.unsignedValue
        let columnSeq = b.sequence?.unsignedValue
        var result = BatchExamination(columns: b, eventCount: b.boundedEventCount, checked: true)
        guard let envelope = b.envelope else {
            result.findings.append(
                VerifyFinding(
                    .batchMalformed,
                    agentID: agentID,
                    epoch: columnEpoch,
                    sequence: columnSeq,
                    batchID: id,
                    "no stored envelope"
                )
            )
            return result
        }
        result.envelopeBytes = envelope.count
        let batch: SignedBatch
        do {
            batch = try SignedBatch(bytes: Array(envelope))
        } catch {
            result.findings.append(
                VerifyFinding(
                    .batchMalformed,
                    agentID: agentID,
                    epoch: columnEpoch,
                    sequence: columnSeq,
                    batchID: id,
                    "stored envelope does not parse: \(error)"
                )
            )
            return result
        }
        result.eventCount = batch.eventCount
        let hash = batch.hash
        var entry = ChainEntry(
            batchID: id,
            agentID: agentID ?? -1,
            epoch: batch.epoch,
            sequence: batch.sequence,
            hash: hash,
            previousHash: batch.previousHash,
            eventCount: Int64(batch.eventCount),
            inScope: true
        )
        func report(_ kind: VerifyFinding.Kind, _ detail: String) {
            result.findings.append(
                VerifyFinding(
                    kind,
                    agentID: agentID,
                    epoch: batch.epoch,
                    sequence: batch.sequence,
                    batchID: id,
                    detail
                )
            )
        }
        if Bytes32(data: b.hash) != hash {
            report(
                .hashMismatch,
                "SHA-256 of the stored envelope is \(hash.hex), the row says \(b.hash?.hexString ?? "nothing")"
            )
        }
        var differing: [String] = []
        if columnEpoch != batch.epoch { differing.append("epoch") }
        if columnSeq != batch.sequence { differing.append("seq") }
        if Bytes32(data: b.previousHash) != batch.previousHash { differing.append("prev_hash") }
        if b.createdNanos != batch.createdNanos { differing.append("created_ns") }
        if b.firstNanos != batch.firstEventNanos { differing.append("first_ns") }
        if b.lastNanos != batch.lastEventNanos { differing.append("last_ns") }
        if b.eventCount != Int64(batch.eventCount) { differing.append("event_count") }
        if !differing.isEmpty {
            report(.batchRowMismatch, "columns differ from the envelope: \(differing.joined(separator: ", "))")
        }
        let received = b.receivedNanos
        guard let agentID, let agent = agents[agentID] else {
            report(.unknownKey, "batch belongs to agent id \(agentID.map(String.init) ?? "?"), which is not enrolled")
            result.entry = entry
            return result
        }
        entry.agentID = agentID
        result.entry = entry
        if let received {
            result.leaf =
                TransparencyLeaf(
                    keyID: batch.keyID,
                    epoch: batch.epoch,
                    sequence: batch.sequence,
                    receivedNanos: received,
                    batchHash: hash
                ).hash
        }
        guard let held = agent.key(id: batch.keyID), let key = held.publicKey, batch.keyID == KeyID.of(key) else {
            report(
                .unknownKey,
                "batch is signed by key id \(batch.keyID.hex.prefix(16))…, not a key \(agent.name) was enrolled with"
            )
            return result
        }
        do {
            try batch.verifySignature(publicKey: key)
        } catch {
            if let defect = held.defect {
                report(.badSignature, "signed under \(agent.name)'s enrolled key, which proves nothing: \(defect)")
            } else {
                report(.badSignature, "Ed25519 signature does not verify under \(agent.name)'s enrolled key")
            }
            return result
        }
        if let received {
            if held.how != "enrolled", let from = held.fromNanos, received < from {
                report(
                    .keyNotValidAtReceipt,
                    "received \(Timestamp.rfc3339(received)), before its key became \(agent.name)'s at \(Timestamp.rfc3339(from))"
                )
            }
            if let until = held.untilNanos, received >= until {
                report(
                    .keyNotValidAtReceipt,
                    "received \(Timestamp.rfc3339(received)), after its key was replaced at \(Timestamp.rfc3339(until))"
                )
            }
            if let enrolled = agent.enrolledNanos, received < enrolled {
                report(
                    .keyNotValidAtReceipt,
                    "received \(Timestamp.rfc3339(received)), before enrolment at \(Timestamp.rfc3339(enrolled))"
                )
            }
            if let revoked = agent.revokedNanos, received >= revoked {
                report(
                    .keyNotValidAtReceipt,
                    "received \(Timestamp.rfc3339(received)), after revocation at \(Timestamp.rfc3339(revoked))"
                )
            }
        }
        do {
            let layout = try batch.decodeLayout(inflate: LibdeflateInflater.inflate)
            result.events = tokenizers.withTokenizer { AuthenticEvents(layout, tokenizer: $0) }
        } catch {
            report(.batchMalformed, "signed payload does not decode: \(error)")
        }
        return result
    }
}

extension IntegrityChecker {
    /// A batch's authentic events, located in its inflated payload, with what ingest derived from each (its indexed
    /// columns with ingest's own ``IndexedSpans``; the tokens of the full-text index) derived again from the payload
    /// on the examining threads, so that the thread stepping through the rows only compares bytes. The `fields`
    /// JSON is written only for a row that holds it in clear (a store from before lines were kept in their batches):
    /// a newer row holds the empty marker, and deriving the JSON of every event cost ~3 % of a full run.
    struct AuthenticEvents: Sendable {
        let layout: EventLayout
        let columns: [IndexedSpans]
        let tokens: [EventTokens]

        init(_ layout: EventLayout, tokenizer: EventTokenizer) {
            self.layout = layout
            let columns = layout.entries.map { IndexedSpans(layout, $0) }
            self.columns = columns
            self.tokens = layout.entries.indices.map {
                tokenizer.tokens(layout, layout.entries[$0], program: columns[$0].program)
            }
        }

        /// Calls `body` with the `fields` JSON of event `index`, as ingest wrote it into rows in clear.
        func withFields<T>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> T) -> T {
            var scratch: [UInt8] = []
            return FieldsJSON.withJSON(self.layout, self.layout.entries[index], scratch: &scratch) {
                body(UnsafeRawBufferPointer($0))
            }
        }
    }
}

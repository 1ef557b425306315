import Crypto
import FlightlogWire
import Foundation
import GRDB

/// Re-checks the stored evidence inside one read transaction (a consistent snapshot of the database).
///
/// Everything read from the database is treated as hostile: values are converted with `fromDatabaseValue`
/// (never GRDB's trapping subscripts), lengths are bounded by the wire limits, and a value that cannot be read is a
/// finding, not a crash.
///
/// One pass walks batches ordered by their first event id next to events ordered by id (a merge join), so that
/// every indexed row is visited exactly once: a row inside a batch's id range is compared field by field with the
/// event decoded from the batch, a missing id is a deleted row, a row in no range is an inserted row. The
/// full-text index is checked per row (see ``FullTextCheck``). The Merkle tree is then rebuilt from the batches
/// and compared with the stored tree and with every signed checkpoint.
struct IntegrityChecker {
    struct Agent {
        var id: Int64
        var name: String
        var publicKey: Curve25519.Signing.PublicKey?
        var keyID: Bytes32?
        var enrolledNanos: Int64?
        var revokedNanos: Int64?
    }

    /// A batch's place in its chain, from its envelope when that parses (else from its columns).
    struct ChainEntry {
        var batchID: Int64
        var agentID: Int64
        var epoch: UInt64
        var sequence: UInt64
        var hash: Bytes32?
        var previousHash: Bytes32?
        var eventCount: Int64
        var inScope: Bool
    }

    /// What the last clean whole-store run had seen (the incremental baseline).
    struct Baseline {
        var maxBatchID: Int64
        var maxEventID: Int64
        var treeSize: UInt64
    }

    static let eventColumns = [
        "id", "batch_id", "idx", "agent_id", "time_ns", "observed_ns", "received_ns", "flags", "host", "source",
        "program", "pid", "user", "src_ip", "severity", "line", "fields",
    ]

    /// Findings of one kind beyond this many are counted in one summary finding (a rewritten table must not make a
    /// report of millions of lines).
    static let maxFindingsPerKind = 1000

    let db: Database
    let options: VerifyOptions
    private(set) var findings: [IntegrityFinding] = []
    private var suppressed: [IntegrityFinding.Kind: Int] = [:]
    private var perKind: [IntegrityFinding.Kind: Int] = [:]
    var agents: [Int64: Agent] = [:]
    private var scopeAgentID: Int64?
    var entries: [ChainEntry] = []
    /// Recomputed leaf hash of every batch seen, by batch id.
    var leaves: [Int64: Bytes32] = [:]
    var fullText: FullTextCheck
    private(set) var baseline: Baseline?
    private(set) var mode: VerifyOptions.Mode
    private(set) var batchesChecked = 0
    private(set) var eventsChecked = 0
    private(set) var bytesChecked = 0
    var treeSize: UInt64 = 0
    var checkpointsChecked = 0
    private(set) var maxBatchID: Int64 = 0
    private(set) var maxEventID: Int64 = 0
    /// Events past the full-text indexer's watermark: not yet indexed, so not checked against the index.
    private(set) var fullTextLag: Int64 = 0

    init(db: Database, options: VerifyOptions) throws {
        self.db = db
        self.options = options
        self.mode = options.mode
        self.fullText = try FullTextCheck(db: db)
    }

    // MARK: - Running

    mutating func run() throws {
        self.fullText.indexedThrough = try Int64.fetchOne(self.db, sql: "SELECT indexed_through FROM fts_progress") ?? 0
        self.maxBatchID = try Int64.fetchOne(self.db, sql: "SELECT COALESCE(MAX(id), 0) FROM batches") ?? 0
        self.maxEventID = try Int64.fetchOne(self.db, sql: "SELECT COALESCE(MAX(id), 0) FROM events") ?? 0
        self.fullText.latestEventID = self.maxEventID
        self.fullTextLag = max(0, self.maxEventID - self.fullText.indexedThrough)
        if self.mode == .incremental {
            self.baseline = try Self.lastCleanBaseline(self.db)
            if self.baseline == nil { self.mode = .full }
        }
        try self.loadAgents()
        try self.checkBatchesAndRows()
        if self.mode == .full && self.options.isWholeStore {
            var found: [IntegrityFinding] = []
            try self.fullText.checkIndex(self.db, report: { found.append($0) })
            for finding in found { self.add(finding) }
        }
        try self.loadOlderChainEntries()
        self.checkChains()
        try self.checkChainsTable()
        try self.checkTreeAndCheckpoints()
        try self.checkAuditTrail()
        for (kind, count) in self.suppressed.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            self.findings.append(IntegrityFinding(kind, "\(count) more \(kind.rawValue) findings not listed"))
        }
    }

    mutating func add(_ finding: IntegrityFinding) {
        var finding = finding
        if finding.agent == nil, let id = finding.agentID { finding.agent = self.agents[id]?.name }
        let seen = self.perKind[finding.kind, default: 0]
        self.perKind[finding.kind] = seen + 1
        if seen >= Self.maxFindingsPerKind {
            self.suppressed[finding.kind, default: 0] += 1
        } else {
            self.findings.append(finding)
        }
    }

    static func lastCleanBaseline(_ db: Database) throws -> Baseline? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT max_batch_id, max_event_id, tree_size FROM verify_runs
                    WHERE outcome = 'clean' AND scope = 'all' ORDER BY id DESC LIMIT 1
                    """
            ),
            let batch = Int64.fromDatabaseValue(row[0]), let event = Int64.fromDatabaseValue(row[1]),
            let size = Int64.fromDatabaseValue(row[2])
        else { return nil }
        return Baseline(maxBatchID: batch, maxEventID: event, treeSize: UInt64(max(0, size)))
    }

    // MARK: - Agents

    private mutating func loadAgents() throws {
        let rows = try Row.fetchAll(
            self.db,
            sql: "SELECT id, name, public_key, key_id, enrolled_ns, revoked_ns FROM agents"
        )
        for row in rows {
            guard let id = Int64.fromDatabaseValue(row[0]) else { continue }
            let name = String.fromDatabaseValue(row[1]) ?? "#\(id)"
            let raw = Data.fromDatabaseValue(row[2])
            let key = raw.flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
            let keyID = Bytes32(data: Data.fromDatabaseValue(row[3]))
            var agent = Agent(
                id: id,
                name: name,
                publicKey: key,
                keyID: keyID,
                enrolledNanos: Int64.fromDatabaseValue(row[4]),
                revokedNanos: Int64.fromDatabaseValue(row[5])
            )
            if key == nil || raw?.count != 32 {
                agent.publicKey = nil
                self.agents[id] = agent
                self.add(
                    IntegrityFinding(
                        .agentKeyAltered,
                        agent: name,
                        agentID: id,
                        "stored public key is not an Ed25519 key"
                    )
                )
                continue
            }
            if let key, keyID != KeyID.of(key) {
                self.add(
                    IntegrityFinding(
                        .agentKeyAltered,
                        agent: name,
                        agentID: id,
                        "stored key id is not SHA-256 of the stored public key"
                    )
                )
            }
            if agent.enrolledNanos == nil {
                self.add(IntegrityFinding(.agentKeyAltered, agent: name, agentID: id, "enrolment time is missing"))
            }
            self.agents[id] = agent
        }
        if let name = self.options.agentName {
            guard let agent = self.agents.values.first(where: { $0.name == name }) else {
                throw StoreError.unknownAgent(name: name)
            }
            self.scopeAgentID = agent.id
        }
    }

    // MARK: - Batches and rows

    private var scopeSQL: String {
        var terms: [String] = []
        if let id = self.scopeAgentID { terms.append("agent_id = \(id)") }
        if let since = self.options.sinceNanos { terms.append("received_ns >= \(since)") }
        return terms.isEmpty ? "1" : terms.joined(separator: " AND ")
    }

    private mutating func checkBatchesAndRows() throws {
        let lowBatch = self.mode == .incremental ? (self.baseline?.maxBatchID ?? 0) + 1 : 0
        let lowEvent = self.mode == .incremental ? (self.baseline?.maxEventID ?? 0) + 1 : 0
        let scope = self.scopeSQL
        let total =
            try Int.fetchOne(
                self.db,
                sql: "SELECT COUNT(*) FROM batches WHERE id >= ? AND (\(scope))",
                arguments: [lowBatch]
            ) ?? 0
        let batches = try Row.fetchCursor(
            self.db,
            sql: """
                SELECT id, agent_id, epoch, seq, hash, prev_hash, created_ns, first_ns, last_ns, event_count,
                       received_ns, first_event_id, CASE WHEN \(scope) THEN envelope END, (\(scope))
                FROM batches WHERE id >= ? ORDER BY first_event_id, id
                """,
            arguments: [lowBatch]
        )
        let rows = try Row.fetchCursor(
            self.db,
            sql: "SELECT \(Self.eventColumns.joined(separator: ", ")) FROM events WHERE id >= ? ORDER BY id",
            arguments: [lowEvent]
        )
        var pending = try rows.next()
        var done = 0
        while let b = try batches.next() {
            guard let batchID = Int64.fromDatabaseValue(b[0]) else { continue }
            let inScope = (Int64.fromDatabaseValue(b[13]) ?? 0) != 0
            let agentID = Int64.fromDatabaseValue(b[1])
            let checked = inScope ? try self.checkBatch(b, id: batchID) : self.columnsOnly(b, id: batchID)
            guard let agentID, let firstEventID = Int64.fromDatabaseValue(b[11]) else {
                self.add(
                    IntegrityFinding(.batchRowMismatch, batchID: batchID, "agent or first event id is not readable")
                )
                continue
            }
            let count = Int64(checked.eventCount)
            // Rows before this batch's range that no earlier range took belong to no batch.
            while let row = pending, let rowID = Int64.fromDatabaseValue(row[0]), rowID < firstEventID {
                self.reportInserted(row, rowID: rowID)
                pending = try rows.next()
            }
            let received = Int64.fromDatabaseValue(b[10])
            for index in 0..<count {
                let expectedID = firstEventID + index
                if let row = pending, let rowID = Int64.fromDatabaseValue(row[0]), rowID == expectedID {
                    if inScope, let events = checked.events {
                        self.compare(
                            row,
                            rowID: rowID,
                            event: events[Int(index)],
                            batchID: batchID,
                            index: Int(index),
                            agentID: agentID,
                            received: received,
                            entry: checked.entry
                        )
                    }
                    pending = try rows.next()
                } else if inScope {
                    self.add(
                        IntegrityFinding(
                            .rowDeleted,
                            agentID: agentID,
                            epoch: checked.entry?.epoch,
                            sequence: checked.entry?.sequence,
                            batchID: batchID,
                            rowID: expectedID,
                            "event \(index) of the batch has no indexed row"
                        )
                    )
                }
                if inScope, let events = checked.events {
                    self.fullText.expect(id: expectedID, line: events[Int(index)].line)
                    self.eventsChecked += 1
                } else if inScope {
                    self.fullText.skip(id: expectedID)
                }
            }
            if inScope {
                done += 1
                if done & 255 == 0 { self.options.progress?(done, total) }
            }
        }
        while let row = pending, let rowID = Int64.fromDatabaseValue(row[0]) {
            self.reportInserted(row, rowID: rowID)
            pending = try rows.next()
        }
        self.options.progress?(done, total)
        if self.mode == .incremental || !self.options.isWholeStore {
            var found: [IntegrityFinding] = []
            try self.fullText.checkRowSizes(
                self.db,
                lowID: self.options.isWholeStore ? lowEvent : Int64.max,
                report: { found.append($0) }
            )
            for finding in found { self.add(finding) }
        }
    }

    private mutating func reportInserted(_ row: Row, rowID: Int64) {
        let agentID = Int64.fromDatabaseValue(row[3])
        if let scope = self.scopeAgentID, agentID != scope { return }
        self.add(
            IntegrityFinding(
                .rowInserted,
                agentID: agentID,
                batchID: Int64.fromDatabaseValue(row[1]),
                rowID: rowID,
                "indexed row belongs to no stored batch's event range"
            )
        )
    }

    private struct CheckedBatch {
        var eventCount: Int
        var events: [Event]?
        var entry: ChainEntry?
    }

    /// Uses only a batch's columns (out of scope): its chain place and its leaf from what the row says.
    private mutating func columnsOnly(_ b: Row, id: Int64) -> CheckedBatch {
        let count = Int(max(0, min(Int64.fromDatabaseValue(b[9]) ?? 0, Int64(WireLimits.maxEventsPerBatch))))
        guard let agentID = Int64.fromDatabaseValue(b[1]), let epoch = Int64.fromDatabaseValue(b[2]),
            let seq = Int64.fromDatabaseValue(b[3])
        else { return CheckedBatch(eventCount: count) }
        let hash = Bytes32(data: Data.fromDatabaseValue(b[4]))
        let entry = ChainEntry(
            batchID: id,
            agentID: agentID,
            epoch: epoch.unsignedValue,
            sequence: seq.unsignedValue,
            hash: hash,
            previousHash: Bytes32(data: Data.fromDatabaseValue(b[5])),
            eventCount: Int64(count),
            inScope: false
        )
        self.entries.append(entry)
        if let hash, let keyID = self.agents[agentID]?.keyID, let received = Int64.fromDatabaseValue(b[10]) {
            self.leaves[id] =
                TransparencyLeaf(
                    keyID: keyID,
                    epoch: entry.epoch,
                    sequence: entry.sequence,
                    receivedNanos: received,
                    batchHash: hash
                ).hash
        }
        return CheckedBatch(eventCount: count, entry: entry)
    }

    /// Checks one stored batch: envelope, hash, columns, key, signature, receipt time; returns its events when
    /// they are authentic (signature verified), for the row comparison.
    private mutating func checkBatch(_ b: Row, id: Int64) throws -> CheckedBatch {
        self.batchesChecked += 1
        let agentID = Int64.fromDatabaseValue(b[1])
        let columnEpoch = Int64.fromDatabaseValue(b[2])?.unsignedValue
        let columnSeq = Int64.fromDatabaseValue(b[3])?.unsignedValue
        let columnCount = Int(max(0, min(Int64.fromDatabaseValue(b[9]) ?? 0, Int64(WireLimits.maxEventsPerBatch))))
        func finding(
            _ kind: IntegrityFinding.Kind,
            epoch: UInt64? = columnEpoch,
            sequence: UInt64? = columnSeq,
            _ detail: String
        ) {
            self.add(IntegrityFinding(kind, agentID: agentID, epoch: epoch, sequence: sequence, batchID: id, detail))
        }
        guard let envelope = Data.fromDatabaseValue(b[12]) else {
            finding(.batchMalformed, "no stored envelope")
            return CheckedBatch(eventCount: columnCount)
        }
        self.bytesChecked += envelope.count
        let batch: SignedBatch
        do {
            batch = try SignedBatch(bytes: Array(envelope))
        } catch {
            finding(.batchMalformed, "stored envelope does not parse: \(error)")
            return CheckedBatch(eventCount: columnCount)
        }
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
        func report(_ kind: IntegrityFinding.Kind, _ detail: String) {
            self.add(
                IntegrityFinding(
                    kind,
                    agentID: agentID,
                    epoch: batch.epoch,
                    sequence: batch.sequence,
                    batchID: id,
                    detail
                )
            )
        }
        if Bytes32(data: Data.fromDatabaseValue(b[4])) != hash {
            report(
                .hashMismatch,
                "SHA-256 of the stored envelope is \(hash.hex), the row says \(Data.fromDatabaseValue(b[4])?.hexString ?? "nothing")"
            )
        }
        var differing: [String] = []
        if columnEpoch != batch.epoch { differing.append("epoch") }
        if columnSeq != batch.sequence { differing.append("seq") }
        if Bytes32(data: Data.fromDatabaseValue(b[5])) != batch.previousHash { differing.append("prev_hash") }
        if Int64.fromDatabaseValue(b[6]) != batch.createdNanos { differing.append("created_ns") }
        if Int64.fromDatabaseValue(b[7]) != batch.firstEventNanos { differing.append("first_ns") }
        if Int64.fromDatabaseValue(b[8]) != batch.lastEventNanos { differing.append("last_ns") }
        if Int64.fromDatabaseValue(b[9]) != Int64(batch.eventCount) { differing.append("event_count") }
        if !differing.isEmpty {
            report(.batchRowMismatch, "columns differ from the envelope: \(differing.joined(separator: ", "))")
        }
        let received = Int64.fromDatabaseValue(b[10])
        guard let agentID, let agent = self.agents[agentID] else {
            report(.unknownKey, "batch belongs to agent id \(agentID.map(String.init) ?? "?"), which is not enrolled")
            self.entries.append(entry)
            return CheckedBatch(eventCount: batch.eventCount, entry: entry)
        }
        entry.agentID = agentID
        self.entries.append(entry)
        if let received {
            self.leaves[id] =
                TransparencyLeaf(
                    keyID: batch.keyID,
                    epoch: batch.epoch,
                    sequence: batch.sequence,
                    receivedNanos: received,
                    batchHash: hash
                ).hash
        }
        guard let key = agent.publicKey, batch.keyID == agent.keyID, batch.keyID == KeyID.of(key) else {
            report(
                .unknownKey,
                "batch is signed by key id \(batch.keyID.hex.prefix(16))…, not \(agent.name)'s enrolled key"
            )
            return CheckedBatch(eventCount: batch.eventCount, entry: entry)
        }
        do {
            try batch.verifySignature(publicKey: key)
        } catch {
            report(.badSignature, "Ed25519 signature does not verify under \(agent.name)'s enrolled key")
            return CheckedBatch(eventCount: batch.eventCount, entry: entry)
        }
        if let received {
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
            let events = try batch.decodeEvents()
            return CheckedBatch(eventCount: batch.eventCount, events: events, entry: entry)
        } catch {
            report(.batchMalformed, "signed payload does not decode: \(error)")
            return CheckedBatch(eventCount: batch.eventCount, entry: entry)
        }
    }

    /// Compares an indexed row with the event it must hold, column by column.
    private mutating func compare(
        _ row: Row,
        rowID: Int64,
        event: Event,
        batchID: Int64,
        index: Int,
        agentID: Int64,
        received: Int64?,
        entry: ChainEntry?
    ) {
        let columns = IndexedColumns(event)
        let expected: [DatabaseValue] = [
            rowID.databaseValue, batchID.databaseValue, index.databaseValue, agentID.databaseValue,
            event.timeNanos.databaseValue, event.observedNanos.databaseValue, Self.value(received),
            Int(event.flags.rawValue).databaseValue, event.host.databaseValue, event.source.databaseValue,
            Self.value(columns.program), Self.value(columns.pid), Self.value(columns.user),
            Self.value(columns.sourceIP), Self.value(columns.severity), Data(event.line).databaseValue,
            FieldsJSON.encode(event.fields).databaseValue,
        ]
        var differing: [String] = []
        for column in 1..<expected.count where (row[column] as DatabaseValue) != expected[column] {
            differing.append(Self.eventColumns[column])
        }
        if !differing.isEmpty {
            self.add(
                IntegrityFinding(
                    .rowEdited,
                    agentID: agentID,
                    epoch: entry?.epoch,
                    sequence: entry?.sequence,
                    batchID: batchID,
                    rowID: rowID,
                    "event \(index) differs from the signed batch in: \(differing.joined(separator: ", "))"
                )
            )
        }
    }

    private static func value(_ value: (some DatabaseValueConvertible)?) -> DatabaseValue {
        value?.databaseValue ?? .null
    }

    // MARK: - Chains

    /// Incremental runs check new batches against their predecessors, which the pass did not read.
    private mutating func loadOlderChainEntries() throws {
        guard self.mode == .incremental, let baseline = self.baseline else { return }
        let rows = try Row.fetchCursor(
            self.db,
            sql: "SELECT id, agent_id, epoch, seq, hash, prev_hash, event_count FROM batches WHERE id <= ?",
            arguments: [baseline.maxBatchID]
        )
        while let row = try rows.next() {
            guard let id = Int64.fromDatabaseValue(row[0]), let agentID = Int64.fromDatabaseValue(row[1]),
                let epoch = Int64.fromDatabaseValue(row[2]), let seq = Int64.fromDatabaseValue(row[3])
            else { continue }
            self.entries.append(
                ChainEntry(
                    batchID: id,
                    agentID: agentID,
                    epoch: epoch.unsignedValue,
                    sequence: seq.unsignedValue,
                    hash: Bytes32(data: Data.fromDatabaseValue(row[4])),
                    previousHash: Bytes32(data: Data.fromDatabaseValue(row[5])),
                    eventCount: Int64.fromDatabaseValue(row[6]) ?? 0,
                    inScope: false
                )
            )
        }
    }

    private struct ChainKey: Hashable {
        var agentID: Int64
        var epoch: UInt64
    }

    private func chainsByKey() -> [ChainKey: [ChainEntry]] {
        var chains: [ChainKey: [ChainEntry]] = [:]
        for entry in self.entries {
            chains[ChainKey(agentID: entry.agentID, epoch: entry.epoch), default: []].append(entry)
        }
        return chains
    }

    private mutating func checkChains() {
        for (key, unsorted) in self.chainsByKey().sorted(by: {
            ($0.key.agentID, $0.key.epoch) < ($1.key.agentID, $1.key.epoch)
        }) {
            let chain = unsorted.sorted { ($0.sequence, $0.batchID) < ($1.sequence, $1.batchID) }
            var previous: ChainEntry?
            for entry in chain {
                defer { previous = entry }
                let relevant = entry.inScope || (previous?.inScope ?? false)
                guard relevant else { continue }
                func finding(_ kind: IntegrityFinding.Kind, _ detail: String) {
                    self.add(
                        IntegrityFinding(
                            kind,
                            agentID: key.agentID,
                            epoch: key.epoch,
                            sequence: entry.sequence,
                            batchID: entry.batchID,
                            detail
                        )
                    )
                }
                guard let previous else {
                    if entry.sequence > 1 {
                        finding(.gap, "batches 1…\(entry.sequence - 1) of epoch \(key.epoch) are missing")
                    } else if entry.previousHash != .zero {
                        finding(.chainBroken, "the first batch of the epoch names a non-zero previous hash")
                    }
                    continue
                }
                if entry.sequence == previous.sequence {
                    finding(
                        .equivocation,
                        "batches \(previous.batchID) and \(entry.batchID) both claim sequence \(entry.sequence)"
                    )
                } else if entry.sequence > previous.sequence + 1 {
                    finding(
                        .gap,
                        "batches \(previous.sequence + 1)…\(entry.sequence - 1) of epoch \(key.epoch) are missing"
                    )
                } else if entry.previousHash != previous.hash {
                    finding(
                        .chainBroken,
                        "batch does not name the hash of stored batch \(previous.sequence) (batch id \(previous.batchID))"
                    )
                }
            }
        }
    }

    /// The `chains` table must say what the batches say: head sequence and hash, batch and event counts.
    private mutating func checkChainsTable() throws {
        guard self.options.sinceNanos == nil else { return }
        let chains = self.chainsByKey()
        var seen = Set<ChainKey>()
        let rows = try Row.fetchAll(
            self.db,
            sql: "SELECT agent_id, epoch, head_seq, head_hash, batches, events FROM chains"
        )
        for row in rows {
            guard let agentID = Int64.fromDatabaseValue(row[0]), let epoch = Int64.fromDatabaseValue(row[1]) else {
                self.add(IntegrityFinding(.chainHeadMismatch, "a chains row is unreadable"))
                continue
            }
            if let scope = self.scopeAgentID, scope != agentID { continue }
            let key = ChainKey(agentID: agentID, epoch: epoch.unsignedValue)
            seen.insert(key)
            guard let chain = chains[key], let head = chain.max(by: { $0.sequence < $1.sequence }) else {
                self.add(
                    IntegrityFinding(
                        .chainHeadMismatch,
                        agentID: agentID,
                        epoch: key.epoch,
                        "the chain is recorded but none of its batches is stored"
                    )
                )
                continue
            }
            var differing: [String] = []
            if Int64.fromDatabaseValue(row[2])?.unsignedValue != head.sequence { differing.append("head_seq") }
            if Bytes32(data: Data.fromDatabaseValue(row[3])) != head.hash { differing.append("head_hash") }
            if Int64.fromDatabaseValue(row[4]) != Int64(chain.count) { differing.append("batches") }
            if Int64.fromDatabaseValue(row[5]) != chain.reduce(0, { $0 + $1.eventCount }) { differing.append("events") }
            if !differing.isEmpty {
                self.add(
                    IntegrityFinding(
                        .chainHeadMismatch,
                        agentID: agentID,
                        epoch: key.epoch,
                        sequence: head.sequence,
                        "chains row disagrees with the stored batches in: \(differing.joined(separator: ", "))"
                    )
                )
            }
        }
        for key in chains.keys where !seen.contains(key) {
            if let scope = self.scopeAgentID, scope != key.agentID { continue }
            self.add(
                IntegrityFinding(
                    .chainHeadMismatch,
                    agentID: key.agentID,
                    epoch: key.epoch,
                    "batches are stored for a chain the chains table does not list"
                )
            )
        }
    }

    // MARK: - Audit trail hook

    /// The investigators' audit trail (migration "v3 audit trail"): every row's hash and its link to the row
    /// before; each break is an ``IntegrityFinding/Kind/auditChain`` finding.
    mutating func checkAuditTrail() throws {
        for problem in try AuditTrail.verify(self.db).problems {
            self.add(IntegrityFinding(.auditChain, "\(problem)"))
        }
    }
}

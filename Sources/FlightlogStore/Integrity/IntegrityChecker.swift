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
    struct Agent: Sendable {
        var id: Int64
        var name: String
        var publicKey: Curve25519.Signing.PublicKey?
        /// Why the enrolled key is refused (small order, not canonical); its signatures then verify nothing.
        var keyDefect: Ed25519.Defect?
        var keyID: Bytes32?
        var enrolledNanos: Int64?
        var revokedNanos: Int64?
        /// Every key the agent has held (enrolment, rotations, re-enrolments), oldest first; the current one last.
        var keys: [HeldKey] = []

        /// The key of the agent whose id is `keyID`.
        func key(id keyID: Bytes32) -> HeldKey? { self.keys.first { $0.keyID == keyID } }

        /// The id of the key the agent held at `nanos` (the current key when none covers it).
        func keyID(at nanos: Int64) -> Bytes32? {
            self.keys.first { key in
                (key.fromNanos.map { nanos >= $0 } ?? true) && (key.untilNanos.map { nanos < $0 } ?? true)
            }?.keyID ?? self.keyID
        }
    }

    /// One key an agent held, and when.
    struct HeldKey: Sendable {
        var raw: Data
        var publicKey: Curve25519.Signing.PublicKey?
        var keyID: Bytes32
        var defect: Ed25519.Defect?
        var fromNanos: Int64?
        var untilNanos: Int64?
        /// `enrolled`, `rotated` or `reenrolled`.
        var how: String
    }

    /// A batch's place in its chain, from its envelope when that parses (else from its columns).
    struct ChainEntry: Sendable {
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
    private(set) var findings: [VerifyFinding] = []
    private var suppressed: [VerifyFinding.Kind: Int] = [:]
    private var perKind: [VerifyFinding.Kind: Int] = [:]
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
    /// Whether the full-text index is checked (see ``run()``), and which of its files.
    private var checksIndex = false
    private var checkedIndexFiles: [Int] = []

    /// Whether the files are opened immutable (read-only media): the index scans open them so too.
    let immutable: Bool

    init(db: Database, options: VerifyOptions, immutable: Bool = false) throws {
        self.db = db
        self.immutable = immutable
        self.options = options
        self.mode = options.mode
        self.fullText = try FullTextCheck(db: db)
    }

    // MARK: - Running

    mutating func run() throws {
        // Without an index file (left out of the open as unreadable, or missing), or with one in the layout before
        // index-file migration v8 (read-only media), that file is not checked: its events count as the lag the
        // report shows.
        let index = try AttachedFullText(self.db)
        let checkedFiles = index.layout.files.filter { index.current[$0] }
        self.checksIndex = !checkedFiles.isEmpty
        self.fullText.layout = index.layout
        self.fullText.watermarks = (0..<FullTextLayout.fileCount).map {
            checkedFiles.contains($0) ? index.watermarks[$0] ?? 0 : 0
        }
        self.checkedIndexFiles = checkedFiles
        self.maxBatchID = try Int64.fetchOne(self.db, sql: "SELECT COALESCE(MAX(id), 0) FROM batches") ?? 0
        self.maxEventID = try Int64.fetchOne(self.db, sql: "SELECT COALESCE(MAX(id), 0) FROM events") ?? 0
        self.fullText.latestEventID = self.maxEventID
        let indexedThrough = index.layout.files.map { self.fullText.watermarks[$0] }.min() ?? 0
        self.fullTextLag = max(0, self.maxEventID.subtractingSaturating(indexedThrough))
        if self.mode == .incremental {
            self.baseline = try Self.lastCleanBaseline(self.db)
            if self.baseline == nil { self.mode = .full }
        }
        try self.loadAgents()
        // A full whole-store run reads the full-text index on another thread while the pass runs.
        var indexScan: FullTextCheck.IndexScan?
        if self.checksIndex && self.mode == .full && self.options.isWholeStore {
            var files: [FullTextCheck.IndexScan.File] = []
            for file in checkedFiles {
                guard
                    let path = try String.fetchOne(
                        self.db,
                        sql: "SELECT file FROM pragma_database_list WHERE name = ?",
                        arguments: [FullTextLayout.schema(file)]
                    ), !path.isEmpty
                else { throw StoreError.database("the full-text index file \(file) is attached without a file name") }
                files.append(FullTextCheck.IndexScan.File(file: file, path: path))
            }
            // The scan keeps a slot per id up to this size (16 bytes each) and the rest apart: sized by the largest
            // id alone, one row inserted with an id near 2^62 would ask for exabytes. Ids are dense (1 up, one
            // per event), so the row count bounds it on an untampered store.
            let rows = try Int64.fetchOne(self.db, sql: "SELECT COUNT(*) FROM events") ?? 0
            indexScan = FullTextCheck.IndexScan(
                files: files,
                layout: index.layout,
                immutable: self.immutable,
                expectedDocuments: Int(clamping: min(self.maxEventID, rows.addingSaturating(1 << 20)))
            )
        }
        try self.checkBatchesAndRows()
        if let indexScan {
            do {
                let documents = try indexScan.result().get()
                var found: [VerifyFinding] = []
                self.fullText.compare(documents, report: { found.append($0) })
                for finding in found { self.add(finding) }
            } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_CORRUPT {
                // A damaged or hand-edited index file is evidence, not a reason to stop: the rest is still checked.
                self.add(
                    VerifyFinding(
                        .storageCorrupt,
                        "\(FullTextCheck.name) (\(FullTextCheck.table) in the full-text files) cannot be read: "
                            + "\(error.message ?? "malformed"); rebuild it only after keeping a copy"
                    )
                )
            }
        }
        try self.loadOlderChainEntries()
        self.checkChains()
        try self.checkChainsTable()
        try self.checkTreeAndCheckpoints()
        try self.checkAuditTrail()
        if self.options.deep { try self.checkStorage() }
        for (kind, count) in self.suppressed.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            self.findings.append(VerifyFinding(kind, "\(count) more \(kind.rawValue) findings not listed"))
        }
    }

    /// SQLite's own check of both files, in the run's snapshot: the `events` indexes (time, host, user, IP) that
    /// queries read through are derived data the rest of the run does not look at, and an index page edited to drop
    /// an entry would hide that row from every filtered query.
    private mutating func checkStorage() throws {
        let attached = Set(try String.fetchAll(self.db, sql: "SELECT name FROM pragma_database_list"))
        let schemas = ["main"] + (0..<FullTextLayout.fileCount).map(FullTextLayout.schema)
        for schema in schemas where attached.contains(schema) {
            let messages = try String.fetchAll(self.db, sql: "PRAGMA \(schema).integrity_check(1000)")
            guard messages != ["ok"] else { continue }
            let file = schema == "main" ? "the database" : "the full-text file \(schema)"
            for message in messages { self.add(VerifyFinding(.storageCorrupt, "\(file): \(message)")) }
        }
    }

    mutating func add(_ finding: VerifyFinding) {
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
                    VerifyFinding(
                        .agentKeyAltered,
                        agent: name,
                        agentID: id,
                        "stored public key is not an Ed25519 key"
                    )
                )
                continue
            }
            if let raw, let defect = Ed25519.defect(publicKey: raw) {
                // Enrolled before enrolment refused such keys, or written into the table by hand.
                agent.keyDefect = defect
                self.add(
                    VerifyFinding(
                        .forgeableKey,
                        agent: name,
                        agentID: id,
                        "enrolled public key \(raw.hexString) is refused: \(defect); every batch stored under it is "
                            + "reported as bad_signature"
                    )
                )
            }
            if let key, keyID != KeyID.of(key) {
                self.add(
                    VerifyFinding(
                        .agentKeyAltered,
                        agent: name,
                        agentID: id,
                        "stored key id is not SHA-256 of the stored public key"
                    )
                )
            }
            if agent.enrolledNanos == nil {
                self.add(VerifyFinding(.agentKeyAltered, agent: name, agentID: id, "enrolment time is missing"))
            }
            self.agents[id] = agent
        }
        try self.loadKeyHistory()
        if let name = self.options.agentName {
            guard let agent = self.agents.values.first(where: { $0.name == name }) else {
                throw StoreError.unknownAgent(name: name)
            }
            self.scopeAgentID = agent.id
        }
    }

    /// Every agent's keys from `agent_keys`; an agent without rows there (enrolled by hand into `agents`) holds
    /// its one key from its enrolment on.
    private mutating func loadKeyHistory() throws {
        var byAgent: [Int64: [HeldKey]] = [:]
        if try self.db.tableExists("agent_keys") {
            let rows = try Row.fetchAll(
                self.db,
                sql: "SELECT agent_id, public_key, key_id, from_ns, until_ns, how FROM agent_keys ORDER BY from_ns, id"
            )
            for row in rows {
                guard let agentID = Int64.fromDatabaseValue(row[0]), let raw = Data.fromDatabaseValue(row[1]),
                    let keyID = Bytes32(data: Data.fromDatabaseValue(row[2]))
                else { continue }
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
                if key.map({ KeyID.of($0) != keyID }) ?? true {
                    self.add(
                        VerifyFinding(
                            .agentKeyAltered,
                            agent: self.agents[agentID]?.name,
                            agentID: agentID,
                            "a key in the agent's key history is not an Ed25519 key, or its key id is not its SHA-256"
                        )
                    )
                }
                byAgent[agentID, default: []].append(
                    HeldKey(
                        raw: raw,
                        publicKey: key,
                        keyID: keyID,
                        defect: Ed25519.defect(publicKey: raw),
                        fromNanos: Int64.fromDatabaseValue(row[3]),
                        untilNanos: Int64.fromDatabaseValue(row[4]),
                        how: String.fromDatabaseValue(row[5]) ?? "?"
                    )
                )
            }
        }
        for (id, agent) in self.agents {
            var keys = byAgent[id] ?? []
            // The history's open key (no end) must be the enrolled one: a key swapped into `agents` or into the
            // history by hand leaves them apart, and then neither is trusted.
            let open = keys.filter { $0.untilNanos == nil }
            if !open.isEmpty, open.count != 1 || open.first?.keyID != agent.keyID {
                self.add(
                    VerifyFinding(
                        .agentKeyAltered,
                        agent: agent.name,
                        agentID: id,
                        "the enrolled key is not the current key of the agent's key history: a key was replaced outside "
                            + "enrolment and rotation"
                    )
                )
                keys.removeAll { $0.untilNanos == nil }
            }
            if let keyID = agent.keyID, !keys.contains(where: { $0.keyID == keyID }) {
                // The current key, when the history does not hold it: held from enrolment, or from the end of the
                // last key the history holds.
                keys.append(
                    HeldKey(
                        raw: agent.publicKey.map { Data($0.rawRepresentation) } ?? Data(),
                        publicKey: agent.publicKey,
                        keyID: keyID,
                        defect: agent.keyDefect,
                        fromNanos: keys.last?.untilNanos ?? agent.enrolledNanos,
                        untilNanos: nil,
                        how: keys.isEmpty ? "enrolled" : "unknown"
                    )
                )
            }
            self.agents[id]?.keys = keys
        }
        try self.checkRotations()
    }

    /// Each stored rotation record against the keys and chains it names, and each key added as a rotation against
    /// a record that hands over to it (PROTOCOL.md §4.12).
    private mutating func checkRotations() throws {
        var handedOver: Set<Data> = []
        if try self.db.tableExists("rotations") {
            let rows = try Row.fetchAll(self.db, sql: "SELECT agent_id, record, received_ns FROM rotations ORDER BY id")
            for row in rows {
                let agentID = Int64.fromDatabaseValue(row[0]) ?? -1
                let agent = self.agents[agentID]
                func report(_ detail: String) {
                    self.add(VerifyFinding(.rotationInvalid, agent: agent?.name, agentID: agentID, detail))
                }
                guard let bytes = Data.fromDatabaseValue(row[1]), let record = try? RotationRecord(bytes: bytes) else {
                    report("a stored rotation record does not parse")
                    continue
                }
                if let problem = record.signatureProblem {
                    report("rotation to epoch \(record.newEpoch): \(problem)")
                    continue
                }
                handedOver.insert(Data(record.newPublicKey.bytes))
                guard let agent else {
                    report("rotation to epoch \(record.newEpoch) belongs to no agent")
                    continue
                }
                let old = agent.keys.first { $0.raw == Data(record.oldPublicKey.bytes) }
                let new = agent.keys.first { $0.raw == Data(record.newPublicKey.bytes) }
                guard let old, let new else {
                    report("rotation to epoch \(record.newEpoch) names a key \(agent.name) never held")
                    continue
                }
                let received = Int64.fromDatabaseValue(row[2])
                if old.untilNanos == nil || old.untilNanos != received || new.fromNanos != received {
                    report(
                        "rotation to epoch \(record.newEpoch): the key history does not hand over from the old key to "
                            + "the new one at the rotation's receipt"
                    )
                }
                let head = try Row.fetchOne(
                    self.db,
                    sql:
                        "SELECT seq, hash FROM batches WHERE agent_id = ? AND epoch = ? ORDER BY seq < 0 DESC, seq DESC LIMIT 1",
                    arguments: [agentID, record.oldEpoch.sqlValue]
                )
                let storedSequence = head.flatMap { Int64.fromDatabaseValue($0[0]) }?.unsignedValue ?? 0
                let storedHash = head.flatMap { Bytes32(data: Data.fromDatabaseValue($0[1])) } ?? .zero
                if storedSequence != record.oldHeadSequence || storedHash != record.oldHeadHash {
                    report(
                        "rotation to epoch \(record.newEpoch) names batch \(record.oldHeadSequence) as the last of epoch "
                            + "\(record.oldEpoch); the store's last is \(storedSequence)"
                    )
                }
            }
        }
        for agent in self.agents.values {
            for key in agent.keys where key.how == "rotated" && !handedOver.contains(key.raw) {
                self.add(
                    VerifyFinding(
                        .rotationInvalid,
                        agent: agent.name,
                        agentID: agent.id,
                        "key \(key.keyID.hex.prefix(16))… was added as a rotation, but no signed record hands over to it"
                    )
                )
            }
        }
    }

    // MARK: - Batches and rows

    private var scopeSQL: String {
        var terms: [String] = []
        if let id = self.scopeAgentID { terms.append("agent_id = \(id)") }
        if let since = self.options.sinceNanos { terms.append("received_ns >= \(since)") }
        return terms.isEmpty ? "1" : terms.joined(separator: " AND ")
    }

    /// The pass's batch columns, in the order ``BatchColumns/init(_:)`` reads them.
    private func batchColumnsSQL(scope: String) -> String {
        """
        SELECT id, agent_id, epoch, seq, hash, prev_hash, created_ns, first_ns, last_ns, event_count,
               received_ns, first_event_id, CASE WHEN \(scope) THEN envelope END, (\(scope))
        FROM batches WHERE id >= ? ORDER BY first_event_id, id
        """
    }

    private mutating func checkBatchesAndRows() throws {
        // The baseline is read back from the database: saturate, an id of 2^63 − 1 there must not trap.
        let lowBatch = self.mode == .incremental ? (self.baseline?.maxBatchID ?? 0).addingSaturating(1) : 0
        let lowEvent = self.mode == .incremental ? (self.baseline?.maxEventID ?? 0).addingSaturating(1) : 0
        let scope = self.scopeSQL
        let total =
            try Int.fetchOne(
                self.db,
                sql: "SELECT COUNT(*) FROM batches WHERE id >= ? AND (\(scope))",
                arguments: [lowBatch]
            ) ?? 0
        let batches = try Row.fetchCursor(self.db, sql: self.batchColumnsSQL(scope: scope), arguments: [lowBatch])
        func nextRun() throws -> [BatchColumns] {
            var run: [BatchColumns] = []
            while run.count < BatchExaminationPipeline.batchesPerRun, let row = try batches.next() {
                if let columns = BatchColumns(row) { run.append(columns) }
            }
            return run
        }
        var rows = try RowCursor(self.db, lowID: lowEvent)
        try rows.advance()
        var done = 0
        // Signature, inflate, decode and the tokens the full-text indexes must hold: for the next run of batches,
        // on the other threads, while this thread compares rows.
        let tokenizers = self.fullText.tokenizers
        // Runs in flight ahead of this thread: with one, the other cores idle whenever this thread or the slowest
        // batch of a run lags; with three, there is always a run to work on.
        var inFlight: [BatchExaminationPipeline] = []
        func launch() throws {
            while inFlight.count < 3 {
                let run = try nextRun()
                guard !run.isEmpty else { return }
                inFlight.append(BatchExaminationPipeline(run, agents: self.agents, tokenizers: tokenizers))
            }
        }
        try launch()
        while !inFlight.isEmpty {
            let examined = inFlight.removeFirst().results()
            try launch()
            for examination in examined {
                self.expectFullText(examination)
                try self.apply(examination, rows: &rows)
                if examination.columns.inScope {
                    done += 1
                    if done & 255 == 0 { self.options.progress?(done, total) }
                }
            }
        }
        while let rowID = rows.id {
            self.reportInserted(rows, rowID: rowID)
            try rows.advance()
        }
        self.options.progress?(done, total)
        if self.checksIndex && (self.mode == .incremental || !self.options.isWholeStore) {
            var found: [VerifyFinding] = []
            try self.fullText.checkRowSizes(
                self.db,
                files: self.checkedIndexFiles,
                lowID: self.options.isWholeStore ? lowEvent : Int64.max,
                report: { found.append($0) }
            )
            for finding in found { self.add(finding) }
        }
    }

    /// Records what the full-text indexes must hold for the events of a checked batch: their tokens, or "not
    /// checkable" for the ids of a batch whose events are not authentic.
    private mutating func expectFullText(_ checked: BatchExamination) {
        let b = checked.columns
        guard b.inScope, b.agentID != nil, let firstEventID = b.firstEventID,
            firstEventID <= Int64.max - Int64(checked.eventCount)
        else { return }
        for index in 0..<checked.eventCount {
            let id = firstEventID + Int64(index)
            if let tokens = checked.events?.tokens, index < tokens.count {
                self.fullText.expect(id: id, tokens[index])
            } else {
                self.fullText.skip(id: id)
            }
        }
    }

    /// Records one examined batch and merge-joins its id range with the rows.
    private mutating func apply(_ checked: BatchExamination, rows: inout RowCursor) throws {
        let b = checked.columns
        let batchID = b.id
        if checked.checked { self.batchesChecked += 1 }
        self.bytesChecked += checked.envelopeBytes
        for finding in checked.findings { self.add(finding) }
        if let entry = checked.entry { self.entries.append(entry) }
        if let leaf = checked.leaf { self.leaves[batchID] = leaf }
        guard let agentID = b.agentID, let firstEventID = b.firstEventID else {
            self.add(VerifyFinding(.batchRowMismatch, batchID: batchID, "agent or first event id is not readable"))
            return
        }
        let inScope = b.inScope
        let count = Int64(checked.eventCount)
        guard firstEventID <= Int64.max - count else {
            // Ids past 2^63 − 1: the column was edited (ingest assigns ids from 1 up).
            self.add(
                VerifyFinding(.batchRowMismatch, batchID: batchID, "first event id \(firstEventID) is out of range")
            )
            return
        }
        // Rows before this batch's range that no earlier range took belong to no batch.
        while let rowID = rows.id, rowID < firstEventID {
            self.reportInserted(rows, rowID: rowID)
            try rows.advance()
        }
        let received = b.receivedNanos
        for index in 0..<count {
            let expectedID = firstEventID + index
            if let rowID = rows.id, rowID == expectedID {
                if inScope, let events = checked.events {
                    let differing = rows.differingColumns(
                        events,
                        batchID: batchID,
                        index: Int(index),
                        agentID: agentID,
                        received: received
                    )
                    if !differing.isEmpty {
                        self.add(
                            VerifyFinding(
                                .rowEdited,
                                agentID: agentID,
                                epoch: checked.entry?.epoch,
                                sequence: checked.entry?.sequence,
                                batchID: batchID,
                                rowID: rowID,
                                "event \(index) differs from the signed batch in: \(differing.joined(separator: ", "))"
                            )
                        )
                    }
                }
                try rows.advance()
            } else if inScope {
                self.add(
                    VerifyFinding(
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
            if inScope, checked.events != nil { self.eventsChecked += 1 }
        }
    }

    private mutating func reportInserted(_ rows: RowCursor, rowID: Int64) {
        let agentID = rows.integer(3)
        if let scope = self.scopeAgentID, agentID != scope { return }
        self.add(
            VerifyFinding(
                .rowInserted,
                agentID: agentID,
                batchID: rows.integer(1),
                rowID: rowID,
                "indexed row belongs to no stored batch's event range"
            )
        )
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
                    // Bounded as the pass bounds it: the column is not trusted, and chains sum it.
                    eventCount: min(max(0, Int64.fromDatabaseValue(row[6]) ?? 0), Int64(WireLimits.maxEventsPerBatch)),
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

    /// Stands for a hash column that does not read as 32 bytes in ``checkChains()`` (no SHA-256 output is it).
    private static let unreadableHash = Bytes32([UInt8](repeating: 0xff, count: 32)) ?? .zero

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
                func finding(_ kind: VerifyFinding.Kind, _ detail: String) {
                    self.add(
                        VerifyFinding(
                            kind,
                            agentID: key.agentID,
                            epoch: key.epoch,
                            sequence: entry.sequence,
                            batchID: entry.batchID,
                            detail
                        )
                    )
                }
                // The rule ingest applies (PROTOCOL.md §8), on the stored batches in sequence order. A hash column
                // that does not read as 32 bytes (the batch pass reports the row) names no batch: it links only to
                // another unreadable one.
                let head = previous.map { ChainLink.Head(sequence: $0.sequence, hash: $0.hash ?? Self.unreadableHash) }
                let named = entry.previousHash ?? Self.unreadableHash
                switch ChainLink.classify(sequence: entry.sequence, previousHash: named, head: head) {
                case .genesis, .extends:
                    break
                case .gap(let missing):
                    finding(
                        .gap,
                        "batches \(missing.lowerBound)…\(missing.upperBound) of epoch \(key.epoch) are missing"
                    )
                case .broken:
                    if let previous {
                        finding(
                            .chainBroken,
                            "batch does not name the hash of stored batch \(previous.sequence) (batch id \(previous.batchID))"
                        )
                    } else if entry.sequence == 0 {
                        finding(.chainBroken, "sequence 0 does not exist: an epoch's first batch is sequence 1")
                    } else {
                        finding(.chainBroken, "the first batch of the epoch names a non-zero previous hash")
                    }
                case .alreadySeen:
                    // In sequence order, a stored batch at or below the one before has the same sequence.
                    let other = previous?.batchID ?? entry.batchID
                    finding(
                        .equivocation,
                        "batches \(other) and \(entry.batchID) both claim sequence \(entry.sequence)"
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
                self.add(VerifyFinding(.chainHeadMismatch, "a chains row is unreadable"))
                continue
            }
            if let scope = self.scopeAgentID, scope != agentID { continue }
            let key = ChainKey(agentID: agentID, epoch: epoch.unsignedValue)
            seen.insert(key)
            guard let chain = chains[key], let head = chain.max(by: { $0.sequence < $1.sequence }) else {
                self.add(
                    VerifyFinding(
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
                    VerifyFinding(
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
                VerifyFinding(
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
    /// before; each break is an ``VerifyFinding/Kind/auditChain`` finding.
    mutating func checkAuditTrail() throws {
        for problem in try AuditTrail.verify(self.db).problems {
            self.add(VerifyFinding(.auditChain, "\(problem)"))
        }
    }
}

import Crypto
import FlightlogEvidence
public import FlightlogStore
import FlightlogSystem
import FlightlogWire
import Foundation
import Logging
import PostgresNIO

extension PostgresStore {
    /// `flightlog verify --store`: every stored batch against its signature and its agent's keys, each chain's links,
    /// every event row against the signed event it indexes, the transparency log against the stored batches, and
    /// each checkpoint against the tree (and against `options.verifier`, the site key). Full runs only; `--agent`
    /// and `--since` narrow the batches checked, never the tree.
    /// Everything is read in one snapshot (``inSnapshot(_:)``): nodes storing batches meanwhile change nothing the
    /// run sees.
    /// The run is recorded in `verify_runs`.
    public func verify(_ options: VerifyOptions) async throws(StoreError) -> VerifyReport {
        let report = try await self.verifyWithoutRecording(options)
        try await self.recordVerifyRun(report)
        return report
    }

    /// ``verify(_:)`` without its record: for a run on a standby, which the caller records on the primary.
    public func verifyWithoutRecording(_ options: VerifyOptions) async throws(StoreError) -> VerifyReport {
        try await self.inSnapshot { try await self.verifyInSnapshot(options) }
    }

    private func verifyInSnapshot(_ options: VerifyOptions) async throws(StoreError) -> VerifyReport {
        let started = WallClock.nowNanos()
        var state = VerifyState()
        let (agents, agentFindings) = try await self.verificationAgents()
        state.findings += agentFindings
        let total = try await self.counts().batches
        var afterID: (agent: Int64, epoch: Int64, seq: Int64) = (Int64.min, Int64.min, Int64.min)
        let page = 200
        while true {
            let batches = try await self.batchPage(after: afterID, limit: page)
            guard let last = batches.last else { break }
            afterID = (last.agentID, last.epoch, last.sequence)
            let rows = try await self.eventRows(batchIDs: batches.map(\.id))
            for batch in batches {
                let agent = agents[batch.agentID]
                let inScope =
                    (options.agentName == nil || agent?.name == options.agentName)
                    && (options.sinceNanos.map { batch.receivedNanos >= $0 } ?? true)
                state.check(batch, agent: agent, rows: rows[batch.id] ?? [], inScope: inScope)
            }
            options.progress?(state.batchesSeen, total)
        }
        state.finishChains(try await self.chainRows())
        state.reportRowsWithoutBatch(try await self.orphanRows())
        try await self.verifyTree(&state, options: options)
        state.findings += try await self.auditFindings()
        let report = VerifyReport(
            mode: .full,
            scope: [
                options.agentName.map { "agent \($0)" }, options.sinceNanos.map { "since \(Timestamp.rfc3339($0))" },
            ]
            .compactMap { $0 }.joined(separator: ", ").nonEmpty ?? "all",
            findings: state.findings,
            batchesChecked: state.batchesChecked,
            eventsChecked: state.eventsChecked,
            bytesChecked: state.bytesChecked,
            treeSize: state.treeSize,
            checkpointsChecked: state.checkpointsChecked,
            startedNanos: started,
            finishedNanos: WallClock.nowNanos()
        )
        return report
    }

    /// Records a run in `verify_runs` (on the primary: a run that read a standby is recorded where it can be).
    public func recordVerifyRun(_ report: VerifyReport) async throws(StoreError) {
        try await self.connection { connection in
            try await connection.query(
                """
                INSERT INTO verify_runs (started_ns, finished_ns, mode, scope, outcome, batches, events, findings,
                                         tree_size, summary, host)
                VALUES (\(report.startedNanos), \(report.finishedNanos), \(report.mode.rawValue), \(report.scope),
                        \(report.isClean ? "clean" : "findings"), \(Int64(report.batchesChecked)),
                        \(Int64(report.eventsChecked)), \(Int64(report.findings.count)), \(Int64(report.treeSize)),
                        \(report.summary), \(self.node))
                """,
                logger: self.logger
            )
        }
    }

    /// Recorded `verify` runs, oldest first.
    public func verifyRuns() async throws(StoreError) -> [VerifyRun] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT id, started_ns, finished_ns, mode, scope, outcome, batches, events, findings, tree_size, summary
                FROM verify_runs ORDER BY id
                """,
                logger: self.logger
            )
            var runs: [VerifyRun] = []
            for try await (id, started, finished, mode, scope, outcome, batches, events, findings, size, summary)
                in rows.decode((Int64, Int64, Int64, String, String, String, Int64, Int64, Int64, Int64, String).self)
            {
                runs.append(
                    VerifyRun(
                        id: id,
                        startedNanos: started,
                        finishedNanos: finished,
                        mode: mode,
                        scope: scope,
                        outcome: outcome,
                        batches: batches,
                        events: events,
                        findings: findings,
                        treeSize: size,
                        summary: summary
                    )
                )
            }
            return runs
        }
    }

    // MARK: - Reading what is checked

    /// An agent and every key it held.
    struct VerifiedAgent: Sendable {
        var name: String
        var enrolledNanos: Int64
        var revokedNanos: Int64?
        var keys: [Bytes32: HeldKey]
    }

    struct HeldKey: Sendable {
        var publicKey: Curve25519.Signing.PublicKey?
        var fromNanos: Int64
        var untilNanos: Int64?
        /// Why the stored key cannot vouch for anything (small order, not canonical), when it cannot.
        var defect: String?
    }

    /// Every agent with the keys it held, and what is wrong with them, as the SQLite store's checker finds it: an
    /// enrolled key that is not an Ed25519 key or whose id is not its SHA-256, a history key likewise, and an enrolled
    /// key that is not the history's current one (a key replaced outside enrolment and rotation: neither is then
    /// trusted, and the batches under them are reported `unknown_key`).
    private func verificationAgents() async throws(StoreError) -> ([Int64: VerifiedAgent], [VerifyFinding]) {
        try await self.connection { connection in
            var agents: [Int64: VerifiedAgent] = [:]
            var enrolledKeys: [Int64: (raw: Data, keyID: Data)] = [:]
            var findings: [VerifyFinding] = []
            let rows = try await connection.query(
                "SELECT id, name, enrolled_ns, revoked_ns, public_key, key_id FROM agents",
                logger: self.logger
            )
            for try await (id, name, enrolled, revoked, raw, keyID) in rows.decode(
                (Int64, String, Int64, Int64?, Data, Data).self
            ) {
                agents[id] = VerifiedAgent(name: name, enrolledNanos: enrolled, revokedNanos: revoked, keys: [:])
                enrolledKeys[id] = (raw, keyID)
                // A key of small order or not canonically encoded parses (swift-crypto takes any 32 bytes); it is
                // named as forgeable, and its batches as proving nothing, as the SQLite store's checker does.
                guard raw.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
                    findings.append(
                        VerifyFinding(
                            .agentKeyAltered,
                            agent: name,
                            agentID: id,
                            "stored public key is not an Ed25519 key"
                        )
                    )
                    continue
                }
                if let defect = Ed25519.defect(publicKey: raw) {
                    findings.append(
                        VerifyFinding(
                            .forgeableKey,
                            agent: name,
                            agentID: id,
                            "enrolled public key \(Array(raw).hexString) is refused: \(defect); every batch stored "
                                + "under it is reported as bad_signature"
                        )
                    )
                }
                if Bytes32(data: keyID) != KeyID.of(key) {
                    findings.append(
                        VerifyFinding(
                            .agentKeyAltered,
                            agent: name,
                            agentID: id,
                            "stored key id is not SHA-256 of the stored public key"
                        )
                    )
                }
            }
            let keys = try await connection.query(
                "SELECT agent_id, public_key, key_id, from_ns, until_ns FROM agent_keys",
                logger: self.logger
            )
            var open: [Int64: [Bytes32]] = [:]
            for try await (agentID, raw, keyID, from, until) in keys.decode((Int64, Data, Data, Int64, Int64?).self) {
                guard let keyID = Bytes32(data: keyID) else { continue }
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
                let held = HeldKey(
                    publicKey: key,
                    fromNanos: from,
                    untilNanos: until,
                    defect: Ed25519.defect(publicKey: raw).map { "\($0)" }
                )
                if key.map({ KeyID.of($0) != keyID }) ?? true {
                    findings.append(
                        VerifyFinding(
                            .agentKeyAltered,
                            agent: agents[agentID]?.name,
                            agentID: agentID,
                            "a key in the agent's key history is not an Ed25519 key, or its key id is not its SHA-256"
                        )
                    )
                }
                if until == nil { open[agentID, default: []].append(keyID) }
                agents[agentID]?.keys[keyID] = held
            }
            // The history's open key must be the enrolled one.
            for (id, agent) in agents {
                let current = open[id] ?? []
                let enrolled = enrolledKeys[id].flatMap { Bytes32(data: $0.keyID) }
                if !current.isEmpty, current.count != 1 || current.first != enrolled {
                    findings.append(
                        VerifyFinding(
                            .agentKeyAltered,
                            agent: agent.name,
                            agentID: id,
                            "the enrolled key is not the current key of the agent's key history: a key was replaced "
                                + "outside enrolment and rotation"
                        )
                    )
                    for keyID in current { agents[id]?.keys[keyID] = nil }
                }
            }
            return (agents, findings)
        }
    }

    struct StoredBatchRow: Sendable {
        var id: Int64
        var agentID: Int64
        var epoch: Int64
        var sequence: Int64
        var hash: Data
        var previousHash: Data
        var createdNanos: Int64
        var firstNanos: Int64
        var lastNanos: Int64
        var eventCount: Int32
        var receivedNanos: Int64
        var envelope: Data
    }

    /// The next batches in (agent, epoch, sequence) order: each chain's batches one after the other.
    private func batchPage(
        after key: (agent: Int64, epoch: Int64, seq: Int64),
        limit: Int
    ) async throws(StoreError) -> [StoredBatchRow] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT id, agent_id, epoch, seq, hash, prev_hash, created_ns, first_ns, last_ns, event_count,
                       received_ns, envelope
                FROM batches WHERE (agent_id, epoch, seq) > (\(key.agent), \(key.epoch), \(key.seq))
                ORDER BY agent_id, epoch, seq LIMIT \(limit)
                """,
                logger: self.logger
            )
            var out: [StoredBatchRow] = []
            for try await row in rows.decode(
                (Int64, Int64, Int64, Int64, Data, Data, Int64, Int64, Int64, Int32, Int64, Data).self
            ) {
                out.append(
                    StoredBatchRow(
                        id: row.0,
                        agentID: row.1,
                        epoch: row.2,
                        sequence: row.3,
                        hash: row.4,
                        previousHash: row.5,
                        createdNanos: row.6,
                        firstNanos: row.7,
                        lastNanos: row.8,
                        eventCount: row.9,
                        receivedNanos: row.10,
                        envelope: row.11
                    )
                )
            }
            return out
        }
    }

    /// One `events` row as stored.
    struct StoredEventRow: Sendable, Equatable {
        var id: Int64
        var index: Int32
        var agentID: Int64
        var timeNanos: Int64
        var observedNanos: Int64
        var receivedNanos: Int64
        var flags: Int32
        var host: String
        var source: String
        var program: String?
        var pid: Int64?
        var user: String?
        var sourceIP: String?
        var severity: String?
        var line: Data
        var fields: String
    }

    private func eventRows(batchIDs: [Int64]) async throws(StoreError) -> [Int64: [StoredEventRow]] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT batch_id, id, idx, agent_id, time_ns, observed_ns, received_ns, flags, host, source, program, pid,
                       "user", src_ip, severity, line, fields
                FROM events WHERE batch_id = ANY(\(batchIDs)) ORDER BY batch_id, idx
                """,
                logger: self.logger
            )
            var out: [Int64: [StoredEventRow]] = [:]
            for try await row in rows.decode(
                (
                    Int64, Int64, Int32, Int64, Int64, Int64, Int64, Int32, String, String, String?, Int64?, String?,
                    String?, String?, Data, String
                ).self
            ) {
                out[row.0, default: []].append(
                    StoredEventRow(
                        id: row.1,
                        index: row.2,
                        agentID: row.3,
                        timeNanos: row.4,
                        observedNanos: row.5,
                        receivedNanos: row.6,
                        flags: row.7,
                        host: row.8,
                        source: row.9,
                        program: row.10,
                        pid: row.11,
                        user: row.12,
                        sourceIP: row.13,
                        severity: row.14,
                        line: row.15,
                        fields: row.16
                    )
                )
            }
            return out
        }
    }

    private func chainRows() async throws(StoreError) -> [ChainRow] {
        try await self.connection { connection in
            let rows = try await connection.query(
                "SELECT agent_id, epoch, head_seq, head_hash, batches, events FROM chains",
                logger: self.logger
            )
            var out: [ChainRow] = []
            for try await row in rows.decode((Int64, Int64, Int64, Data, Int64, Int64).self) {
                out.append(
                    ChainRow(
                        agentID: row.0,
                        epoch: row.1,
                        headSequence: row.2,
                        headHash: row.3,
                        batches: row.4,
                        events: row.5
                    )
                )
            }
            return out
        }
    }

    /// Event rows whose batch is not stored, or whose index is past its batch's events.
    private func orphanRows() async throws(StoreError) -> [(id: Int64, batchID: Int64)] {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT e.id, e.batch_id FROM events e LEFT JOIN batches b ON b.id = e.batch_id
                WHERE b.id IS NULL OR e.idx < 0 OR e.idx >= b.event_count
                """,
                logger: self.logger
            )
            var out: [(id: Int64, batchID: Int64)] = []
            for try await (id, batchID) in rows.decode((Int64, Int64).self) { out.append((id, batchID)) }
            return out
        }
    }

    /// The leaves against the batches, every stored node against its children, and the checkpoints against the
    /// tree and the site key.
    private func verifyTree(_ state: inout VerifyState, options: VerifyOptions) async throws(StoreError) {
        let (leaves, nodes, size, checkpoints) = try await self.connection { connection in
            var leaves: [(index: Int64, batchID: Int64)] = []
            for try await (index, batchID) in try await connection.query(
                "SELECT leaf_index, batch_id FROM merkle_leaves ORDER BY leaf_index",
                logger: self.logger
            ).decode((Int64, Int64).self) {
                leaves.append((index, batchID))
            }
            var nodes: [NodeKey: Data] = [:]
            for try await (level, index, hash) in try await connection.query(
                "SELECT level, idx, hash FROM merkle_nodes",
                logger: self.logger
            ).decode((Int32, Int64, Data).self) {
                nodes[NodeKey(level: Int(level), index: UInt64(max(0, index)))] = hash
            }
            let size = try await Self.size(connection, logger: self.logger)
            var checkpoints: [(id: Int64, size: Int64, root: Data, origin: String, note: String)] = []
            for try await row in try await connection.query(
                "SELECT id, tree_size, root_hash, origin, note FROM checkpoints ORDER BY id",
                logger: self.logger
            ).decode((Int64, Int64, Data, String, String).self) {
                checkpoints.append(row)
            }
            return (leaves, nodes, size, checkpoints)
        }
        state.treeSize = size
        // Leaves: one per stored batch, in order, each the hash recomputed from its batch.
        var leafHashes: [Bytes32] = []
        leafHashes.reserveCapacity(leaves.count)
        var leafOf: Set<Int64> = []
        for (position, leaf) in leaves.enumerated() {
            if leaf.index != Int64(position) {
                state.report(.treeMismatch, "leaf \(position) is stored at index \(leaf.index)")
            }
            leafOf.insert(leaf.batchID)
            let stored = nodes[NodeKey(level: 0, index: UInt64(position))].flatMap(Bytes32.init(data:))
            guard let computed = state.leafHashes[leaf.batchID] else {
                if !state.storedBatches.contains(leaf.batchID) {
                    state.report(
                        .batchDeleted,
                        batchID: leaf.batchID,
                        "leaf \(leaf.index) names batch \(leaf.batchID), which is not stored"
                    )
                }
                // A batch whose envelope does not parse was reported as such: the tree above it is checked from
                // its stored leaf.
                leafHashes.append(stored ?? Bytes32.zero)
                continue
            }
            leafHashes.append(computed)
            if stored != computed {
                state.report(
                    .leafMismatch,
                    batchID: leaf.batchID,
                    "the stored hash of leaf \(position) is not its batch's"
                )
            }
        }
        for batchID in state.storedBatches where !leafOf.contains(batchID) {
            state.report(.leafMissing, batchID: batchID, "batch \(batchID) is not in the transparency log")
        }
        if UInt64(leaves.count) != size {
            state.report(.treeMismatch, "the log says \(size) leaves, \(leaves.count) are stored")
        }
        // Interior nodes: each the hash of its two children, recomputed level by level from the leaves.
        var level = leafHashes
        var height = 0
        while level.count > 1 {
            var next: [Bytes32] = []
            next.reserveCapacity(level.count / 2)
            var index = 0
            while index + 1 < level.count {
                let parent = MerkleTree.nodeHash(level[index], level[index + 1])
                let key = NodeKey(level: height + 1, index: UInt64(index / 2))
                if nodes[key].flatMap(Bytes32.init(data:)) != parent {
                    state.report(.treeMismatch, "node (\(key.level), \(key.index)) is not the hash of its children")
                }
                next.append(parent)
                index += 2
            }
            level = next
            height += 1
        }
        // Checkpoints, stored and external (`--checkpoints FILE`): each parses, is signed by the site key, and names
        // the root the leaves give at its size.
        var claims: [(source: String, signed: SignedCheckpoint)] = []
        for checkpoint in checkpoints {
            state.checkpointsChecked += 1
            guard let signed = try? SignedCheckpoint(note: checkpoint.note) else {
                state.report(.checkpointMalformed, "checkpoint \(checkpoint.id) does not parse")
                continue
            }
            if signed.checkpoint.size != UInt64(max(0, checkpoint.size))
                || signed.checkpoint.rootHash != Bytes32(data: checkpoint.root)
            {
                state.report(.checkpointMalformed, "checkpoint \(checkpoint.id): its row disagrees with its note")
            }
            claims.append(("checkpoint \(checkpoint.id)", signed))
        }
        for (number, parsed) in options.externalCheckpoints.enumerated() {
            switch parsed {
            case .failure(let error): state.report(.checkpointMalformed, "external checkpoint #\(number + 1): \(error)")
            case .success(let signed):
                state.checkpointsChecked += 1
                claims.append(("external checkpoint #\(number + 1)", signed))
            }
        }
        var covered = 0
        for (source, signed) in claims {
            if let verifier = options.verifier {
                do {
                    try signed.verify(verifier)
                } catch {
                    state.report(.checkpointBadSignature, "\(source): \(error)")
                    continue
                }
            }
            let checkpointSize = Int(signed.checkpoint.size)
            guard checkpointSize <= leafHashes.count else {
                state.report(
                    .checkpointInconsistent,
                    "\(source) covers \(checkpointSize) leaves, the tree has \(leafHashes.count)"
                )
                continue
            }
            if MerkleTree.root(Array(leafHashes.prefix(checkpointSize))) != signed.checkpoint.rootHash {
                state.report(
                    .checkpointInconsistent,
                    "\(source) signed a root of \(checkpointSize) leaves that the stored batches do not give"
                )
                continue
            }
            covered = max(covered, checkpointSize)
        }
        // Leaves no checkpoint covers long after they were stored: serve signs every few minutes, so a long gap
        // means checkpoints were deleted, or the signing stopped.
        if covered < leafHashes.count {
            let received = try await self.connection { connection in
                try await connection.all(
                    """
                    SELECT b.received_ns FROM merkle_leaves l JOIN batches b ON b.id = l.batch_id
                    WHERE l.leaf_index = \(Int64(covered))
                    """,
                    Int64.self,
                    logger: self.logger
                ).first
            }
            if let received, options.nowNanos.subtractingSaturating(received) > options.checkpointGraceNanos {
                state.report(
                    .checkpointMissing,
                    "leaves \(covered)…\(leafHashes.count - 1) are in no signed checkpoint, the first received "
                        + Timestamp.rfc3339(received)
                )
            }
        }
        if options.verifier == nil && !checkpoints.isEmpty {
            state.report(
                .checkpointUnverifiable,
                "no site key given (--aggregator-key): checkpoint signatures not checked"
            )
        }
    }
}

/// One `chains` row.
struct ChainRow: Sendable {
    var agentID: Int64
    var epoch: Int64
    var headSequence: Int64
    var headHash: Data
    var batches: Int64
    var events: Int64
}

/// What a verify run has found so far.
struct VerifyState {
    var findings: [VerifyFinding] = []
    var batchesSeen = 0
    var batchesChecked = 0
    var eventsChecked = 0
    var bytesChecked = 0
    var treeSize: UInt64 = 0
    var checkpointsChecked = 0
    /// The leaf hash of each stored batch, recomputed from its envelope and receipt time.
    var leafHashes: [Int64: Bytes32] = [:]
    /// Every stored batch's id.
    var storedBatches: Set<Int64> = []

    /// Rows that belong to no stored event.
    mutating func reportRowsWithoutBatch(_ rows: [(id: Int64, batchID: Int64)]) {
        for row in rows {
            self.report(.rowInserted, batchID: row.batchID, rowID: row.id, "row \(row.id) belongs to no stored event")
        }
    }
    /// The last batch seen of the chain being walked, and each chain's figures.
    private var previous: (agentID: Int64, epoch: Int64, sequence: Int64, hash: Bytes32)?
    private var chains: [ChainKey: (last: Int64, hash: Data, batches: Int64, events: Int64)] = [:]

    struct ChainKey: Hashable {
        var agentID: Int64
        var epoch: Int64
    }

    mutating func report(
        _ kind: VerifyFinding.Kind,
        agentID: Int64? = nil,
        epoch: Int64? = nil,
        sequence: Int64? = nil,
        batchID: Int64? = nil,
        rowID: Int64? = nil,
        _ detail: String
    ) {
        self.findings.append(
            VerifyFinding(
                kind,
                agentID: agentID,
                epoch: epoch.map(UInt64.init(bitPattern:)),
                sequence: sequence.map(UInt64.init(bitPattern:)),
                batchID: batchID,
                rowID: rowID,
                detail
            )
        )
    }

    /// One batch in chain order: its envelope, signature and key, columns, link and rows.
    mutating func check(
        _ b: PostgresStore.StoredBatchRow,
        agent: PostgresStore.VerifiedAgent?,
        rows: [PostgresStore.StoredEventRow],
        inScope: Bool
    ) {
        self.batchesSeen += 1
        self.storedBatches.insert(b.id)
        func report(_ kind: VerifyFinding.Kind, rowID: Int64? = nil, _ detail: String) {
            self.report(
                kind,
                agentID: b.agentID,
                epoch: b.epoch,
                sequence: b.sequence,
                batchID: b.id,
                rowID: rowID,
                detail
            )
        }
        // The chain, from the rows' own columns (every batch, in scope or not).
        let key = ChainKey(agentID: b.agentID, epoch: b.epoch)
        var chain = self.chains[key] ?? (last: 0, hash: Data(count: 32), batches: 0, events: 0)
        if b.sequence == chain.last + 1 {
            // The next batch (or batch 1, whose predecessor hash is all zero).
            if b.previousHash != chain.hash {
                report(.chainBroken, "batch \(b.sequence) does not name the hash of batch \(chain.last)")
            }
        } else if b.sequence > chain.last + 1 {
            report(.gap, "batches \(chain.last + 1)…\(b.sequence - 1) of epoch \(b.epoch) are missing")
        }
        chain = (last: b.sequence, hash: b.hash, batches: chain.batches + 1, events: chain.events + Int64(b.eventCount))
        self.chains[key] = chain
        guard let batch = try? SignedBatch(bytes: Array(b.envelope)) else {
            report(.batchMalformed, "stored envelope does not parse")
            return
        }
        self.leafHashes[b.id] =
            TransparencyLeaf(
                keyID: batch.keyID,
                epoch: batch.epoch,
                sequence: batch.sequence,
                receivedNanos: b.receivedNanos,
                batchHash: batch.hash
            ).hash
        guard inScope else { return }
        self.batchesChecked += 1
        self.bytesChecked += b.envelope.count
        if Bytes32(data: b.hash) != batch.hash {
            report(.hashMismatch, "SHA-256 of the stored envelope is \(batch.hash.hex), the row says another")
        }
        var differing: [String] = []
        if UInt64(bitPattern: b.epoch) != batch.epoch { differing.append("epoch") }
        if UInt64(bitPattern: b.sequence) != batch.sequence { differing.append("seq") }
        if Bytes32(data: b.previousHash) != batch.previousHash { differing.append("prev_hash") }
        if b.createdNanos != batch.createdNanos { differing.append("created_ns") }
        if b.firstNanos != batch.firstEventNanos { differing.append("first_ns") }
        if b.lastNanos != batch.lastEventNanos { differing.append("last_ns") }
        if Int(b.eventCount) != batch.eventCount { differing.append("event_count") }
        if !differing.isEmpty {
            report(.batchRowMismatch, "columns differ from the envelope: \(differing.joined(separator: ", "))")
        }
        guard let agent else {
            report(.unknownKey, "batch belongs to agent id \(b.agentID), which is not enrolled")
            return
        }
        guard let held = agent.keys[batch.keyID], let key = held.publicKey else {
            report(
                .unknownKey,
                "signed by key id \(batch.keyID.hex.prefix(16))…, not a key \(agent.name) was enrolled with"
            )
            return
        }
        do {
            try batch.verifySignature(publicKey: key)
        } catch {
            if let defect = held.defect {
                report(.badSignature, "signed under \(agent.name)'s enrolled key, which proves nothing: \(defect)")
            } else {
                report(.badSignature, "Ed25519 signature does not verify under \(agent.name)'s key")
            }
            return
        }
        if b.receivedNanos < agent.enrolledNanos {
            report(.keyNotValidAtReceipt, "received before enrolment at \(Timestamp.rfc3339(agent.enrolledNanos))")
        }
        if let revoked = agent.revokedNanos, b.receivedNanos >= revoked {
            report(.keyNotValidAtReceipt, "received after revocation at \(Timestamp.rfc3339(revoked))")
        }
        if let until = held.untilNanos, b.receivedNanos >= until {
            report(.keyNotValidAtReceipt, "received after its key was replaced at \(Timestamp.rfc3339(until))")
        }
        let layout: EventLayout
        do {
            layout = try batch.decodeLayout()
        } catch {
            report(.batchMalformed, "signed payload does not decode: \(error)")
            return
        }
        // Rows: one per signed event, each equal to what ingest derives from it.
        let byIndex = Dictionary(rows.map { (Int($0.index), $0) }, uniquingKeysWith: { first, _ in first })
        for (index, entry) in layout.entries.enumerated() {
            self.eventsChecked += 1
            guard let row = byIndex[index] else {
                report(.rowDeleted, "event \(index) of the batch has no row")
                continue
            }
            let values = IndexedValues(layout, entry)
            var expected = row
            expected.agentID = b.agentID
            expected.timeNanos = entry.timeNanos
            expected.observedNanos = entry.observedNanos
            expected.receivedNanos = b.receivedNanos
            expected.flags = Int32(bitPattern: UInt32(truncatingIfNeeded: entry.flags.rawValue))
            expected.host = PostgresStore.text(layout, entry.host)
            expected.source = PostgresStore.text(layout, entry.source)
            expected.program = values.program.map(PostgresStore.withoutNUL)
            expected.pid = values.pid
            expected.user = values.user.map(PostgresStore.withoutNUL)
            expected.sourceIP = values.sourceIP.map(PostgresStore.withoutNUL)
            expected.severity = values.severity.map(PostgresStore.withoutNUL)
            expected.line = layout.withBytes(entry.line) { Data($0) }
            expected.fields = PostgresStore.withoutNUL(PostgresStore.fieldsJSON(layout, entry))
            if row != expected {
                report(
                    .rowEdited,
                    rowID: row.id,
                    "row \(row.id) (event \(index)) differs from the signed event: \(Self.differences(row, expected))"
                )
            }
        }
        if rows.count > byIndex.count {
            report(.rowInserted, "the batch has \(rows.count - byIndex.count) rows more than once per event")
        }
    }

    /// The names of the columns in which two rows differ.
    static func differences(_ a: PostgresStore.StoredEventRow, _ b: PostgresStore.StoredEventRow) -> String {
        var names: [String] = []
        if a.agentID != b.agentID { names.append("agent_id") }
        if a.timeNanos != b.timeNanos { names.append("time_ns") }
        if a.observedNanos != b.observedNanos { names.append("observed_ns") }
        if a.receivedNanos != b.receivedNanos { names.append("received_ns") }
        if a.flags != b.flags { names.append("flags") }
        if a.host != b.host { names.append("host") }
        if a.source != b.source { names.append("source") }
        if a.program != b.program { names.append("program") }
        if a.pid != b.pid { names.append("pid") }
        if a.user != b.user { names.append("user") }
        if a.sourceIP != b.sourceIP { names.append("src_ip") }
        if a.severity != b.severity { names.append("severity") }
        if a.line != b.line { names.append("line") }
        if a.fields != b.fields { names.append("fields") }
        return names.joined(separator: ", ")
    }

    /// Each `chains` row against the batches walked.
    mutating func finishChains(_ rows: [ChainRow]) {
        var seen: Set<ChainKey> = []
        for row in rows {
            let key = ChainKey(agentID: row.agentID, epoch: row.epoch)
            seen.insert(key)
            guard let walked = self.chains[key] else {
                self.report(
                    .chainHeadMismatch,
                    agentID: row.agentID,
                    epoch: row.epoch,
                    "a chain row with no stored batch"
                )
                continue
            }
            if row.headSequence != walked.last || row.headHash != walked.hash || row.batches != walked.batches
                || row.events != walked.events
            {
                self.report(
                    .chainHeadMismatch,
                    agentID: row.agentID,
                    epoch: row.epoch,
                    "the chain row says head \(row.headSequence), \(row.batches) batches, \(row.events) events; the "
                        + "batches say \(walked.last), \(walked.batches), \(walked.events)"
                )
            }
        }
        for key in self.chains.keys where !seen.contains(key) {
            self.report(.chainHeadMismatch, agentID: key.agentID, epoch: key.epoch, "stored batches with no chain row")
        }
    }
}

extension String {
    var nonEmpty: String? { self.isEmpty ? nil : self }
}

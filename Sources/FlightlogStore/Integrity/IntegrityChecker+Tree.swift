import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension IntegrityChecker {
    /// A signed statement "the tree of `size` leaves has root `root`", from the checkpoints table or a file.
    struct CheckpointClaim {
        var source: String
        var size: UInt64
        var root: Bytes32
    }

    mutating func checkTreeAndCheckpoints() throws {
        let claims = try self.collectCheckpoints()
        try self.checkLeafMembership()
        if self.mode == .full {
            try self.checkWholeTree(claims)
        } else {
            try self.checkNewNodes(claims)
        }
        try self.checkCheckpointFreshness(claims)
    }

    // MARK: - Checkpoints

    private mutating func collectCheckpoints() throws -> [CheckpointClaim] {
        var claims: [CheckpointClaim] = []
        let verifier = self.options.verifier
        var unauthenticated = 0
        let rows = try Row.fetchAll(self.db, sql: "SELECT id, tree_size, root_hash, note FROM checkpoints ORDER BY id")
        var previous: (id: Int64, size: UInt64)?
        for row in rows {
            let id = Int64.fromDatabaseValue(row[0]) ?? -1
            let source = "checkpoints row \(id)"
            guard let note = String.fromDatabaseValue(row[3]), let signed = try? SignedCheckpoint(note: note) else {
                self.add(VerifyFinding(.checkpointMalformed, "\(source): the note is not a signed checkpoint"))
                continue
            }
            self.checkpointsChecked += 1
            let size = signed.checkpoint.size
            if Int64.fromDatabaseValue(row[1]).map(UInt64.init(bitPattern:)) != size
                || Bytes32(data: Data.fromDatabaseValue(row[2])) != signed.checkpoint.rootHash
            {
                self.add(
                    VerifyFinding(
                        .checkpointMalformed,
                        "\(source): tree_size or root_hash differ from its signed note"
                    )
                )
            }
            if let verifier {
                do throws(EvidenceError) {
                    try signed.verify(verifier)
                } catch {
                    self.add(VerifyFinding(.checkpointBadSignature, "\(source): \(error)"))
                    continue
                }
            } else {
                unauthenticated += 1
            }
            if let previous, size < previous.size {
                self.add(
                    VerifyFinding(
                        .checkpointInconsistent,
                        "\(source) signs \(size) leaves, fewer than row \(previous.id)'s \(previous.size): the log shrank"
                    )
                )
            }
            previous = (id, size)
            claims.append(CheckpointClaim(source: source, size: size, root: signed.checkpoint.rootHash))
        }
        for (number, parsed) in self.options.externalCheckpoints.enumerated() {
            let source = "external checkpoint #\(number + 1)"
            switch parsed {
            case .failure(let error):
                self.add(VerifyFinding(.checkpointMalformed, "\(source): \(error)"))
            case .success(let signed):
                self.checkpointsChecked += 1
                guard let verifier else {
                    unauthenticated += 1
                    claims.append(
                        CheckpointClaim(source: source, size: signed.checkpoint.size, root: signed.checkpoint.rootHash)
                    )
                    continue
                }
                do throws(EvidenceError) {
                    try signed.verify(verifier)
                    claims.append(
                        CheckpointClaim(source: source, size: signed.checkpoint.size, root: signed.checkpoint.rootHash)
                    )
                } catch {
                    self.add(VerifyFinding(.checkpointBadSignature, "\(source): \(error)"))
                }
            }
        }
        if unauthenticated > 0 {
            self.add(
                VerifyFinding(
                    .checkpointUnverifiable,
                    "no aggregator key to authenticate \(unauthenticated) checkpoints: pass --aggregator-key"
                )
            )
        }
        return claims
    }

    /// Every leaf names a stored batch and every stored batch is a leaf (cheap joins, every mode).
    private mutating func checkLeafMembership() throws {
        let orphans = try Row.fetchAll(
            self.db,
            sql: """
                SELECT l.leaf_index, l.batch_id FROM merkle_leaves l LEFT JOIN batches b ON b.id = l.batch_id
                WHERE b.id IS NULL ORDER BY l.leaf_index
                """
        )
        for row in orphans {
            let index = Int64.fromDatabaseValue(row[0]) ?? -1
            self.add(
                VerifyFinding(
                    .batchDeleted,
                    batchID: Int64.fromDatabaseValue(row[1]),
                    "leaf \(index) of the transparency log names a batch that is no longer stored"
                )
            )
        }
        let missing = try Row.fetchAll(
            self.db,
            sql: """
                SELECT b.id, b.agent_id, b.epoch, b.seq FROM batches b LEFT JOIN merkle_leaves l ON l.batch_id = b.id
                WHERE l.batch_id IS NULL ORDER BY b.id
                """
        )
        for row in missing {
            self.add(
                VerifyFinding(
                    .leafMissing,
                    agentID: Int64.fromDatabaseValue(row[1]),
                    epoch: Int64.fromDatabaseValue(row[2])?.unsignedValue,
                    sequence: Int64.fromDatabaseValue(row[3])?.unsignedValue,
                    batchID: Int64.fromDatabaseValue(row[0]),
                    "the batch is stored but is not in the transparency log"
                )
            )
        }
    }

    // MARK: - Full: rebuild the tree

    /// Rebuilds the tree from the batches in leaf order, compares every stored node, and compares the root at each
    /// checkpoint's size with the checkpoint. Equal roots at both sizes of two checkpoints is what a consistency
    /// proof between them proves, so no proof is needed when the whole tree is rebuilt.
    private mutating func checkWholeTree(_ claims: [CheckpointClaim]) throws {
        let sizes = Set(claims.map(\.size))
        var roots: [UInt64: Bytes32] = [0: MerkleTree.emptyRoot]
        var levels: [[Bytes32]] = []
        var leafBatch: [Int64] = []
        var frontier = MerkleTree.Frontier()
        var reportedOrder = false
        let storedLeaf = try self.db.makeStatement(sql: "SELECT hash FROM merkle_nodes WHERE level = 0 AND idx = ?")
        let rows = try Row.fetchCursor(
            self.db,
            sql: "SELECT leaf_index, batch_id FROM merkle_leaves ORDER BY leaf_index"
        )
        while let row = try rows.next() {
            let index = Int64.fromDatabaseValue(row[0]) ?? -1
            let batchID = Int64.fromDatabaseValue(row[1]) ?? -1
            if index != Int64(frontier.size) && !reportedOrder {
                reportedOrder = true
                self.add(
                    VerifyFinding(
                        .treeMismatch,
                        "leaf indices are not contiguous: leaf \(frontier.size) is followed by \(index)"
                    )
                )
            }
            // A deleted batch cannot be rehashed: keep its stored leaf so that the rest still compares.
            let storedHash = try Data.fetchOne(storedLeaf, arguments: [index])
            let hash = self.leaves[batchID] ?? Bytes32(data: storedHash) ?? .zero
            leafBatch.append(batchID)
            frontier.append(hash) { level, _, node in
                if levels.count <= level { levels.append([]) }
                levels[level].append(node)
            }
            if sizes.contains(frontier.size) { roots[frontier.size] = frontier.root }
        }
        self.treeSize = frontier.size
        var stored = [Int](repeating: 0, count: levels.count)
        var mismatches = 0
        let nodes = try Row.fetchCursor(self.db, sql: "SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx")
        while let row = try nodes.next() {
            guard let level = Int.fromDatabaseValue(row[0]), let index = Int.fromDatabaseValue(row[1]), level >= 0,
                index >= 0, level < levels.count, index < levels[level].count
            else {
                mismatches += 1
                self.add(
                    VerifyFinding(
                        .treeMismatch,
                        "stored node (\(row[0] as DatabaseValue), \(row[1] as DatabaseValue)) is not part of the rebuilt tree"
                    )
                )
                continue
            }
            stored[level] += 1
            guard Bytes32(data: Data.fromDatabaseValue(row[2])) != levels[level][index] else { continue }
            mismatches += 1
            if level == 0 {
                let batchID = index < leafBatch.count ? leafBatch[index] : nil
                self.add(
                    VerifyFinding(
                        .leafMismatch,
                        batchID: batchID,
                        "stored leaf \(index) is not the hash of its batch"
                    )
                )
            } else {
                self.add(VerifyFinding(.treeMismatch, "stored node (\(level), \(index)) is not the rebuilt node"))
            }
        }
        for level in 0..<levels.count where stored[level] != levels[level].count {
            self.add(
                VerifyFinding(
                    .treeMismatch,
                    "level \(level) of the stored tree holds \(stored[level]) nodes, the rebuilt tree \(levels[level].count)"
                )
            )
        }
        for claim in claims {
            guard claim.size <= frontier.size else {
                self.add(
                    VerifyFinding(
                        .checkpointInconsistent,
                        "\(claim.source) signs \(claim.size) leaves but the log holds \(frontier.size): batches were removed"
                    )
                )
                continue
            }
            if roots[claim.size] != claim.root {
                self.add(
                    VerifyFinding(
                        .checkpointInconsistent,
                        "\(claim.source): the first \(claim.size) leaves rebuilt from the stored batches have another root "
                            + "than the signed one: batches were removed, replaced or reordered"
                    )
                )
            }
        }
    }

    // MARK: - Incremental: new nodes and consistency proofs

    /// Checks the leaves and nodes added since the last clean run against their batches and children, then proves
    /// each checkpoint consistent with the next and the last with the stored tree (RFC 6962 §2.1.2 proofs built from
    /// stored nodes, verified against the signed roots).
    private mutating func checkNewNodes(_ claims: [CheckpointClaim]) throws {
        let size = try TransparencyLog.size(self.db)
        self.treeSize = size
        let count = try Int64.fetchOne(self.db, sql: "SELECT COUNT(*) FROM merkle_leaves") ?? 0
        if count != Int64(size) {
            self.add(
                VerifyFinding(.treeMismatch, "the log has \(count) leaves but its highest index implies \(size)")
            )
        }
        let old = self.baseline?.treeSize ?? 0
        if size < old {
            self.add(
                VerifyFinding(
                    .checkpointInconsistent,
                    "the log shrank from \(old) to \(size) leaves since the last clean run"
                )
            )
        }
        let leafIndex = try self.db.makeStatement(sql: "SELECT leaf_index FROM merkle_leaves WHERE batch_id = ?")
        for (batchID, hash) in self.leaves.sorted(by: { $0.key < $1.key }) {
            guard let index = try Int64.fetchOne(leafIndex, arguments: [batchID]) else { continue }
            let stored = try? TransparencyLog.node(self.db, level: 0, index: UInt64(max(0, index)))
            if stored != hash {
                self.add(
                    VerifyFinding(
                        .leafMismatch,
                        batchID: batchID,
                        "stored leaf \(index) is not the hash of its batch"
                    )
                )
            }
        }
        // The size is implied by the highest leaf index, which the database holds: one edited index near 2^63
        // would make this loop run for ever. A count that disagrees is reported above; check what rows exist.
        let checkedSize = min(size, UInt64(max(0, count)))
        if old < checkedSize {
            for index in old..<checkedSize {
                var position = index
                var level = 0
                while position & 1 == 1 {
                    let left = try? TransparencyLog.node(self.db, level: level, index: position - 1)
                    let right = try? TransparencyLog.node(self.db, level: level, index: position)
                    let parent = try? TransparencyLog.node(self.db, level: level + 1, index: position >> 1)
                    if let left, let right, parent == MerkleTree.nodeHash(left, right) {
                        level += 1
                        position >>= 1
                        continue
                    }
                    self.add(
                        VerifyFinding(
                            .treeMismatch,
                            "stored node (\(level + 1), \(position >> 1)) is not the hash of its children"
                        )
                    )
                    break
                }
            }
        }
        let current: Bytes32
        do {
            current = try TransparencyLog.root(self.db, size: size)
        } catch {
            self.add(VerifyFinding(.treeMismatch, "the stored tree has no root: \(error)"))
            return
        }
        let nodes = TransparencyLog.nodes(self.db)
        let ordered = claims.sorted { $0.size < $1.size }
        for (position, claim) in ordered.enumerated() {
            guard claim.size <= size else {
                self.add(
                    VerifyFinding(
                        .checkpointInconsistent,
                        "\(claim.source) signs \(claim.size) leaves but the log holds \(size): batches were removed"
                    )
                )
                continue
            }
            let next =
                position + 1 < ordered.count && ordered[position + 1].size <= size
                ? ordered[position + 1] : CheckpointClaim(source: "the stored tree", size: size, root: current)
            let proof = (try? MerkleTree.consistencyProof(oldSize: claim.size, newSize: next.size, nodes)) ?? []
            let consistent = MerkleTree.verifyConsistency(
                oldSize: claim.size,
                oldRoot: claim.root,
                newSize: next.size,
                newRoot: next.root,
                proof: proof
            )
            if !consistent {
                self.add(
                    VerifyFinding(
                        .checkpointInconsistent,
                        "no consistency proof from \(claim.source) (\(claim.size) leaves) to \(next.source) (\(next.size) leaves)"
                    )
                )
            }
        }
    }

    // MARK: - Freshness

    /// Leaves not covered by any checkpoint long after they were stored mean checkpoints were deleted or never made.
    private mutating func checkCheckpointFreshness(_ claims: [CheckpointClaim]) throws {
        let covered = claims.map(\.size).max() ?? 0
        guard covered < self.treeSize else { return }
        let received = try Int64.fetchOne(
            self.db,
            sql: "SELECT b.received_ns FROM merkle_leaves l JOIN batches b ON b.id = l.batch_id WHERE l.leaf_index = ?",
            arguments: [Int64(covered)]
        )
        guard let received, self.options.nowNanos.subtractingSaturating(received) > self.options.checkpointGraceNanos
        else { return }
        self.add(
            VerifyFinding(
                .checkpointMissing,
                "leaves \(covered)…\(self.treeSize - 1) are in no signed checkpoint, the first received "
                    + "\(Timestamp.rfc3339(received))"
            )
        )
    }
}

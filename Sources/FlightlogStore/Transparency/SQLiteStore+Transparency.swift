import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore {
    /// Number of leaves in the transparency log.
    public func treeSize() async throws(StoreError) -> UInt64 {
        try await self.read { db in try TransparencyLog.size(db) }
    }

    /// Signs and stores a checkpoint of the current tree, unless the latest stored checkpoint already covers it
    /// (then that one is returned) — or, with `onlyWhenGrown`, unless the tree did not grow (then nil).
    public func makeCheckpoint(
        signer: CheckpointSigner,
        atNanos: Int64,
        onlyWhenGrown: Bool = false
    ) async throws(StoreError)
        -> SignedCheckpoint?
    {
        try await self.write { db in
            let size = try TransparencyLog.size(db)
            let root = try TransparencyLog.root(db, size: size)
            if let latest = try Self.latestCheckpoint(db), latest.signed.checkpoint.size == size,
                latest.signed.checkpoint.rootHash == root, latest.signed.checkpoint.origin == signer.verifier.name
            {
                return onlyWhenGrown ? nil : latest.signed
            }
            if onlyWhenGrown && size == 0 { return nil }
            let signed: SignedCheckpoint
            do {
                signed = try signer.sign(Checkpoint(origin: signer.verifier.name, size: size, rootHash: root))
            } catch {
                throw StoreError.database("cannot sign the checkpoint: \(error)")
            }
            try db.execute(
                sql: "INSERT INTO checkpoints (tree_size, root_hash, signed_ns, origin, note) VALUES (?, ?, ?, ?, ?)",
                arguments: [Int64(size), root.data, atNanos, signed.checkpoint.origin, signed.note]
            )
            return signed
        }
    }

    /// Stored checkpoints, oldest first.
    public func checkpoints() async throws(StoreError) -> [StoredCheckpoint] {
        try await self.read { db in
            try Row.fetchAll(db, sql: "SELECT id, signed_ns, note FROM checkpoints ORDER BY id").compactMap { row in
                guard let note = String.fromDatabaseValue(row[2]), let signed = try? SignedCheckpoint(note: note) else {
                    return nil
                }
                return StoredCheckpoint(
                    id: Int64.fromDatabaseValue(row[0]) ?? 0,
                    signedNanos: Int64.fromDatabaseValue(row[1]) ?? 0,
                    signed: signed
                )
            }
        }
    }

    static func latestCheckpoint(_ db: Database) throws -> StoredCheckpoint? {
        guard
            let row = try Row.fetchOne(db, sql: "SELECT id, signed_ns, note FROM checkpoints ORDER BY id DESC LIMIT 1"),
            let note = String.fromDatabaseValue(row[2]), let signed = try? SignedCheckpoint(note: note)
        else { return nil }
        return StoredCheckpoint(
            id: Int64.fromDatabaseValue(row[0]) ?? 0,
            signedNanos: Int64.fromDatabaseValue(row[1]) ?? 0,
            signed: signed
        )
    }

    /// The audit path of batch `batchID` in the tree of the first `treeSize` leaves.
    public func inclusionProof(batchID: Int64, treeSize: UInt64) async throws(StoreError) -> InclusionProof? {
        try await self.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT l.leaf_index, b.epoch, b.seq, b.received_ns, b.hash, substr(b.envelope, 9, 32)
                        FROM merkle_leaves l JOIN batches b ON b.id = l.batch_id WHERE l.batch_id = ?
                        """,
                    arguments: [batchID]
                ),
                let index = Int64.fromDatabaseValue(row[0]), index >= 0, UInt64(index) < treeSize,
                let epoch = Int64.fromDatabaseValue(row[1]), let seq = Int64.fromDatabaseValue(row[2]),
                let received = Int64.fromDatabaseValue(row[3]),
                let hash = Bytes32(data: Data.fromDatabaseValue(row[4])),
                let keyID = Bytes32(data: Data.fromDatabaseValue(row[5]))
            else { return nil }
            // The key id the batch itself names (envelope bytes 8 ..< 40), as ingest put it in the leaf: after a
            // rotation the agent's current key is another.
            let leaf = TransparencyLeaf(
                keyID: keyID,
                epoch: epoch.unsignedValue,
                sequence: seq.unsignedValue,
                receivedNanos: received,
                batchHash: hash
            )
            let path = try MerkleTree.inclusionProof(index: UInt64(index), size: treeSize, TransparencyLog.nodes(db))
            return InclusionProof(leafIndex: UInt64(index), treeSize: treeSize, leaf: leaf, path: path)
        }
    }

    /// A consistency proof between two sizes of the stored tree.
    public func consistencyProof(oldSize: UInt64, newSize: UInt64) async throws(StoreError) -> [Bytes32] {
        try await self.read { db in
            try MerkleTree.consistencyProof(oldSize: oldSize, newSize: newSize, TransparencyLog.nodes(db))
        }
    }

    /// The stored root of the first `size` leaves.
    public func treeRoot(size: UInt64) async throws(StoreError) -> Bytes32 {
        try await self.read { db in try TransparencyLog.root(db, size: size) }
    }
}

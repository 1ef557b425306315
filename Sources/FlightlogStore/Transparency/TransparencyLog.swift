import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// The aggregator's Merkle tree over every accepted batch, kept in SQLite.
///
/// `merkle_leaves` maps leaf index → batch; `merkle_nodes` holds the root of every *complete* aligned subtree
/// (level 0 = leaf hashes), so that appending a leaf inserts at most log₂ n + 1 rows and reads at most log₂ n, and
/// any root or proof for any size is O(log n) point look-ups. Appends run inside the ingest transaction: a batch
/// is in the tree exactly when it is stored.
enum TransparencyLog {
    /// Number of leaves.
    static func size(_ db: Database) throws -> UInt64 {
        let next =
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM merkle_leaves"))
            ?? 0
        return UInt64(max(0, next))
    }

    /// Appends `leaf` for `batchID`; returns its leaf index.
    @discardableResult
    static func append(_ db: Database, batchID: Int64, leaf: TransparencyLeaf) throws -> UInt64 {
        let index = try Self.size(db)
        try db.cachedStatement(sql: "INSERT INTO merkle_leaves (leaf_index, batch_id) VALUES (?, ?)")
            .execute(arguments: [Int64(index), batchID])
        let insertNode = try db.cachedStatement(sql: "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)")
        var hash = leaf.hash
        var level = 0
        var position = index
        try insertNode.execute(arguments: [level, Int64(position), hash.data])
        // A right child completes its parent: combine with the stored left sibling, one level at a time.
        while position & 1 == 1 {
            let left = try Self.node(db, level: level, index: position - 1)
            hash = MerkleTree.nodeHash(left, hash)
            level += 1
            position >>= 1
            try insertNode.execute(arguments: [level, Int64(position), hash.data])
        }
        return index
    }

    /// The stored root of a complete subtree.
    static func node(_ db: Database, level: Int, index: UInt64) throws -> Bytes32 {
        let data = try Data.fetchOne(
            db.cachedStatement(sql: "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?"),
            arguments: [level, Int64(index)]
        )
        guard let hash = Bytes32(data: data) else {
            throw StoreError.database("transparency log node (\(level), \(index)) is missing or malformed")
        }
        return hash
    }

    /// The node source for ``MerkleTree``'s proof functions over this database.
    static func nodes(_ db: Database) -> MerkleTree.NodeSource {
        { level, index in try Self.node(db, level: level, index: index) }
    }

    /// The root of the first `size` leaves, from stored nodes.
    static func root(_ db: Database, size: UInt64) throws -> Bytes32 {
        try MerkleTree.root(size: size, Self.nodes(db))
    }
}

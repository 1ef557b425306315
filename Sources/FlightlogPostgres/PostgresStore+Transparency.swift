public import FlightlogEvidence
public import FlightlogStore
public import FlightlogWire
import Foundation
import Logging
import PostgresNIO

/// Appends leaves to the transparency log inside an ingest transaction that holds `merkle_state`'s lock: the same
/// tree as the SQLite store's (`merkle_nodes` holds the root of every complete aligned subtree). The new leaves and
/// nodes are kept until ``flush(_:logger:)`` writes them in two statements before the commit, rather than one
/// round trip each.
struct TreeAppender {
    private(set) var size: UInt64
    /// Nodes made in this transaction, read again by the next appends without a round trip.
    private var written: [NodeKey: Bytes32] = [:]
    private var leaves: [(index: Int64, batchID: Int64)] = []

    init(size: UInt64) { self.size = size }

    mutating func append(
        _ connection: PostgresConnection,
        batchID: Int64,
        leaf: TransparencyLeaf,
        logger: Logger
    ) async throws {
        let index = self.size
        self.leaves.append((Int64(index), batchID))
        var hash = leaf.hash
        var level = 0
        var position = index
        self.written[NodeKey(level: level, index: position)] = hash
        // A right child completes its parent: combine with the left sibling, one level at a time.
        while position & 1 == 1 {
            let key = NodeKey(level: level, index: position - 1)
            let left: Bytes32
            if let known = self.written[key] {
                left = known
            } else {
                guard let stored = try await PostgresStore.nodes(connection, [key], logger: logger)[key] else {
                    throw StoreError.database("transparency log node (\(key.level), \(key.index)) is missing")
                }
                left = stored
            }
            hash = MerkleTree.nodeHash(left, hash)
            level += 1
            position >>= 1
            self.written[NodeKey(level: level, index: position)] = hash
        }
        self.size = index + 1
    }

    /// Writes the leaves and nodes made since the last flush.
    mutating func flush(_ connection: PostgresConnection, logger: Logger) async throws {
        guard !self.leaves.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO merkle_leaves (leaf_index, batch_id)
            SELECT * FROM unnest(\(self.leaves.map(\.index))::bigint[], \(self.leaves.map(\.batchID))::bigint[])
            """,
            logger: logger
        )
        let nodes = Array(self.written)
        try await connection.query(
            """
            INSERT INTO merkle_nodes (level, idx, hash)
            SELECT * FROM unnest(\(nodes.map { Int32($0.key.level) })::integer[],
                                 \(nodes.map { Int64($0.key.index) })::bigint[],
                                 \(nodes.map { ByteBuffer(bytes: $0.value.bytes) })::bytea[])
            """,
            logger: logger
        )
        self.leaves = []
        self.written = [:]
    }
}

/// A node of the tree: the root of the complete subtree `index` at `level`.
struct NodeKey: Hashable, Sendable {
    var level: Int
    var index: UInt64
}

extension PostgresStore: TransparencyStore {
    public func treeSize() async throws(StoreError) -> UInt64 {
        try await self.connection { connection in try await Self.size(connection, logger: self.logger) }
    }

    public func makeCheckpoint(
        signer: CheckpointSigner,
        atNanos: Int64,
        onlyWhenGrown: Bool
    ) async throws(StoreError) -> SignedCheckpoint? {
        try await self.transaction { connection in
            // The log's lock: the size and root read here are those of committed batches only, and no node signs
            // a checkpoint of the same size at the same moment.
            let size = UInt64(
                try await connection.all("SELECT size FROM merkle_state FOR UPDATE", Int64.self, logger: self.logger)
                    .first ?? 0
            )
            let root = try await Self.root(connection, size: size, logger: self.logger)
            if let latest = try await Self.latestCheckpoint(connection, logger: self.logger),
                latest.signed.checkpoint.size == size, latest.signed.checkpoint.rootHash == root,
                latest.signed.checkpoint.origin == signer.verifier.name
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
            try await connection.query(
                """
                INSERT INTO checkpoints (tree_size, root_hash, signed_ns, origin, note)
                VALUES (\(Int64(size)), \(root.data), \(atNanos), \(signed.checkpoint.origin), \(signed.note))
                """,
                logger: self.logger
            )
            return signed
        }
    }

    public func checkpoints() async throws(StoreError) -> [StoredCheckpoint] {
        try await self.connection { connection in
            let rows = try await connection.query(
                "SELECT id, signed_ns, note FROM checkpoints ORDER BY id",
                logger: self.logger
            )
            var out: [StoredCheckpoint] = []
            for try await (id, signedNanos, note) in rows.decode((Int64, Int64, String).self) {
                guard let signed = try? SignedCheckpoint(note: note) else { continue }
                out.append(StoredCheckpoint(id: id, signedNanos: signedNanos, signed: signed))
            }
            return out
        }
    }

    public func inclusionProof(batchID: Int64, treeSize: UInt64) async throws(StoreError) -> InclusionProof? {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT l.leaf_index, b.epoch, b.seq, b.received_ns, b.hash, substring(b.envelope FROM 9 FOR 32)
                FROM merkle_leaves l JOIN batches b ON b.id = l.batch_id WHERE l.batch_id = \(batchID)
                """,
                logger: self.logger
            )
            for try await (index, epoch, sequence, received, hash, keyID) in rows.decode(
                (Int64, Int64, Int64, Int64, Data, Data).self
            ) {
                guard index >= 0, UInt64(index) < treeSize, let hash = Bytes32(data: hash),
                    let keyID = Bytes32(data: keyID)
                else { return nil }
                let leaf = TransparencyLeaf(
                    keyID: keyID,
                    epoch: UInt64(bitPattern: epoch),
                    sequence: UInt64(bitPattern: sequence),
                    receivedNanos: received,
                    batchHash: hash
                )
                let nodes = try await Self.prefetch(connection, logger: self.logger) { source in
                    try MerkleTree.inclusionProof(index: UInt64(index), size: treeSize, source)
                }
                let path = try MerkleTree.inclusionProof(index: UInt64(index), size: treeSize, nodes)
                return InclusionProof(leafIndex: UInt64(index), treeSize: treeSize, leaf: leaf, path: path)
            }
            return nil
        }
    }

    public func consistencyProof(oldSize: UInt64, newSize: UInt64) async throws(StoreError) -> [Bytes32] {
        try await self.connection { connection in
            let nodes = try await Self.prefetch(connection, logger: self.logger) { source in
                try MerkleTree.consistencyProof(oldSize: oldSize, newSize: newSize, source)
            }
            return try MerkleTree.consistencyProof(oldSize: oldSize, newSize: newSize, nodes)
        }
    }

    public func treeRoot(size: UInt64) async throws(StoreError) -> Bytes32 {
        try await self.connection { connection in try await Self.root(connection, size: size, logger: self.logger) }
    }

    // MARK: - Reading the tree

    static func size(_ connection: PostgresConnection, logger: Logger) async throws -> UInt64 {
        UInt64(try await connection.all("SELECT size FROM merkle_state", Int64.self, logger: logger).first ?? 0)
    }

    static func root(_ connection: PostgresConnection, size: UInt64, logger: Logger) async throws -> Bytes32 {
        let nodes = try await Self.prefetch(connection, logger: logger) { source in
            try MerkleTree.root(size: size, source)
        }
        return try MerkleTree.root(size: size, nodes)
    }

    /// A node source holding every node `compute` reads, fetched in one query. Which nodes a root or proof reads
    /// depends on the sizes and indexes only, never on the hashes: a first run with placeholder hashes lists them.
    static func prefetch(
        _ connection: PostgresConnection,
        logger: Logger,
        _ compute: (MerkleTree.NodeSource) throws -> Any
    ) async throws -> MerkleTree.NodeSource {
        final class Recorder: @unchecked Sendable {
            var keys: [NodeKey] = []
        }
        let recorder = Recorder()
        _ = try compute { level, index in
            recorder.keys.append(NodeKey(level: level, index: index))
            return Bytes32.zero
        }
        let found = try await Self.nodes(connection, recorder.keys, logger: logger)
        return { level, index in
            guard let hash = found[NodeKey(level: level, index: index)] else {
                throw StoreError.database("transparency log node (\(level), \(index)) is missing")
            }
            return hash
        }
    }

    /// The stored nodes among `keys`.
    static func nodes(
        _ connection: PostgresConnection,
        _ keys: [NodeKey],
        logger: Logger
    ) async throws -> [NodeKey: Bytes32] {
        guard !keys.isEmpty else { return [:] }
        let levels = keys.map { Int32($0.level) }
        let indexes = keys.map { Int64($0.index) }
        let rows = try await connection.query(
            """
            SELECT n.level, n.idx, n.hash FROM merkle_nodes n
            JOIN unnest(\(levels)::integer[], \(indexes)::bigint[]) AS k(level, idx)
              ON n.level = k.level AND n.idx = k.idx
            """,
            logger: logger
        )
        var found: [NodeKey: Bytes32] = [:]
        for try await (level, index, hash) in rows.decode((Int32, Int64, Data).self) {
            guard let hash = Bytes32(data: hash) else {
                throw StoreError.database("transparency log node (\(level), \(index)) is malformed")
            }
            found[NodeKey(level: Int(level), index: UInt64(index))] = hash
        }
        return found
    }

    static func latestCheckpoint(_ connection: PostgresConnection, logger: Logger) async throws -> StoredCheckpoint? {
        let rows = try await connection.query(
            "SELECT id, signed_ns, note FROM checkpoints ORDER BY id DESC LIMIT 1",
            logger: logger
        )
        for try await (id, signedNanos, note) in rows.decode((Int64, Int64, String).self) {
            guard let signed = try? SignedCheckpoint(note: note) else { return nil }
            return StoredCheckpoint(id: id, signedNanos: signedNanos, signed: signed)
        }
        return nil
    }
}

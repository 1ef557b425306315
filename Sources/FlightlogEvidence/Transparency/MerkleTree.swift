import Crypto
public import FlightlogWire

/// RFC 6962 §2.1 Merkle tree hashing, audit (inclusion) and consistency proofs, and their verifiers (the
/// verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2).
///
/// Pure: subtree hashes come from a closure, so the same code works over leaves in memory (tests, full
/// re-verification) and over the complete subtrees stored in SQLite (O(log n) look-ups per proof).
public enum MerkleTree {
    /// `SHA-256(0x00 ‖ data)`: the hash of a leaf.
    public static func leafHash(_ data: [UInt8]) -> Bytes32 {
        var hasher = SHA256()
        hasher.update(data: [0])
        hasher.update(data: data)
        return Bytes32(hasher.finalize()) ?? .zero
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
    public static func nodeHash(_ left: Bytes32, _ right: Bytes32) -> Bytes32 {
        var hasher = SHA256()
        hasher.update(data: [1])
        hasher.update(data: left.bytes)
        hasher.update(data: right.bytes)
        return Bytes32(hasher.finalize()) ?? .zero
    }

    /// `SHA-256()`: the root of the empty tree.
    public static let emptyRoot = Bytes32(SHA256.hash(data: [UInt8]())) ?? .zero

    /// The largest power of two strictly smaller than `n` (n ≥ 2): RFC 6962's split point `k`.
    static func split(_ n: UInt64) -> UInt64 {
        var k: UInt64 = 1
        // 2k < n, written so that it holds up to n = 2^64 − 1 (k << 1 wraps to 0 at k = 2^63); 1 below n = 2.
        while n >= 2, k <= (n - 1) >> 1 { k <<= 1 }
        return k
    }

    /// The root of the tree over `leafHashes` (MTH of RFC 6962 §2.1).
    public static func root(_ leafHashes: [Bytes32]) -> Bytes32 {
        guard !leafHashes.isEmpty else { return Self.emptyRoot }
        var frontier = Frontier()
        for leaf in leafHashes { frontier.append(leaf) }
        return frontier.root
    }

    // MARK: - Subtree hashes from complete subtrees

    /// A source of the hashes of complete, aligned subtrees: `node(level, index)` is the root of leaves
    /// `index·2^level ..< (index+1)·2^level`.
    public typealias NodeSource = (_ level: Int, _ index: UInt64) throws -> Bytes32

    /// MTH of leaves `start ..< start+count`, where `start` is a multiple of the split of any enclosing call (which
    /// RFC 6962's recursion guarantees): complete left parts are looked up, only the right edge is computed.
    static func subtreeHash(start: UInt64, count: UInt64, _ node: NodeSource) throws -> Bytes32 {
        if count == 0 { return Self.emptyRoot }
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return try node(level, start >> UInt64(level))
        }
        let k = Self.split(count)
        let left = try node(k.trailingZeroBitCount, start >> UInt64(k.trailingZeroBitCount))
        let right = try Self.subtreeHash(start: start + k, count: count - k, node)
        return Self.nodeHash(left, right)
    }

    /// The root of the first `size` leaves.
    public static func root(size: UInt64, _ node: NodeSource) throws -> Bytes32 {
        try Self.subtreeHash(start: 0, count: size, node)
    }

    // MARK: - Inclusion proofs (RFC 6962 §2.1.1)

    /// The audit path of leaf `index` in the tree of the first `size` leaves (PATH(m, D[n])).
    public static func inclusionProof(index: UInt64, size: UInt64, _ node: NodeSource) throws -> [Bytes32] {
        guard index < size else { return [] }
        return try Self.path(index: index, start: 0, count: size, node)
    }

    private static func path(index: UInt64, start: UInt64, count: UInt64, _ node: NodeSource) throws -> [Bytes32] {
        guard count > 1 else { return [] }
        let k = Self.split(count)
        if index < k {
            return try Self.path(index: index, start: start, count: k, node)
                + [Self.subtreeHash(start: start + k, count: count - k, node)]
        }
        return try Self.path(index: index - k, start: start + k, count: count - k, node)
            + [Self.subtreeHash(start: start, count: k, node)]
    }

    /// Whether `proof` shows that `leafHash` is leaf `index` of the tree of `size` leaves with root `root`
    /// (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(
        leafHash: Bytes32,
        index: UInt64,
        size: UInt64,
        proof: [Bytes32],
        root: Bytes32
    ) -> Bool {
        guard index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = Self.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = Self.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    // MARK: - Consistency proofs (RFC 6962 §2.1.2)

    /// PROOF(m, D[n]): shows that the tree of the first `oldSize` leaves is a prefix of the tree of `newSize`.
    public static func consistencyProof(oldSize: UInt64, newSize: UInt64, _ node: NodeSource) throws -> [Bytes32] {
        guard oldSize > 0, oldSize < newSize else { return [] }
        return try Self.subproof(m: oldSize, start: 0, count: newSize, complete: true, node)
    }

    private static func subproof(
        m: UInt64,
        start: UInt64,
        count: UInt64,
        complete: Bool,
        _ node: NodeSource
    ) throws
        -> [Bytes32]
    {
        if m == count {
            return complete ? [] : [try Self.subtreeHash(start: start, count: count, node)]
        }
        let k = Self.split(count)
        if m <= k {
            return try Self.subproof(m: m, start: start, count: k, complete: complete, node)
                + [Self.subtreeHash(start: start + k, count: count - k, node)]
        }
        return try Self.subproof(m: m - k, start: start + k, count: count - k, complete: false, node)
            + [Self.subtreeHash(start: start, count: k, node)]
    }

    /// Whether `proof` shows that the tree (`oldSize`, `oldRoot`) is a prefix of (`newSize`, `newRoot`)
    /// (RFC 9162 §2.1.4.2).
    public static func verifyConsistency(
        oldSize: UInt64,
        oldRoot: Bytes32,
        newSize: UInt64,
        newRoot: Bytes32,
        proof: [Bytes32]
    ) -> Bool {
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        guard oldSize < newSize else { return false }
        if oldSize == 0 { return proof.isEmpty }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        guard let first = path.first else { return false }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first
        var sr = first
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = Self.nodeHash(c, fr)
                sr = Self.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = Self.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }

    // MARK: - Streaming construction

    /// The right edge of a growing tree: the roots of its complete subtrees, largest first. Appending is O(log n)
    /// and reports each complete subtree it closes, so a whole tree can be rebuilt and compared in one pass.
    public struct Frontier: Sendable {
        /// (level, hash) of the complete subtrees, left to right.
        public private(set) var stack: [(level: Int, hash: Bytes32)] = []
        /// Leaves appended so far.
        public private(set) var size: UInt64 = 0

        public init() {}

        /// Appends a leaf hash; `closed` sees every complete subtree (level ≥ 0) it finishes, with its index.
        public mutating func append(
            _ leaf: Bytes32,
            closed: (_ level: Int, _ index: UInt64, Bytes32) -> Void = { _, _, _ in }
        ) {
            var node = leaf
            var level = 0
            closed(0, self.size, leaf)
            while let last = self.stack.last, last.level == level {
                self.stack.removeLast()
                node = MerkleTree.nodeHash(last.hash, node)
                level += 1
                closed(level, self.size >> UInt64(level), node)
            }
            self.stack.append((level, node))
            self.size += 1
        }

        /// The root of the leaves appended so far.
        public var root: Bytes32 {
            guard var node = self.stack.last?.hash else { return MerkleTree.emptyRoot }
            for entry in self.stack.dropLast().reversed() {
                node = MerkleTree.nodeHash(entry.hash, node)
            }
            return node
        }
    }
}

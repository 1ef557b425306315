import FlightlogWire
import Testing

@testable import FlightlogEvidence

@Suite("RFC 6962 Merkle tree, proofs and verifiers")
struct MerkleTreeTests {
    /// Leaf hashes of d0…d7 (one byte each).
    static let leaves: [Bytes32] = (0..<8).map { MerkleTree.leafHash([UInt8($0)]) }

    /// MTH exactly as RFC 6962 §2.1 defines it, recursively.
    static func mth(_ hashes: ArraySlice<Bytes32>) -> Bytes32 {
        if hashes.isEmpty { return MerkleTree.emptyRoot }
        if hashes.count == 1, let only = hashes.first { return only }
        var k = 1
        while k * 2 < hashes.count { k *= 2 }
        let start = hashes.startIndex
        return MerkleTree.nodeHash(Self.mth(hashes[start..<(start + k)]), Self.mth(hashes[(start + k)...]))
    }

    /// A node source over `leaves`: complete aligned subtrees.
    static func source(_ leaves: [Bytes32]) -> MerkleTree.NodeSource {
        { level, index in
            let start = Int(index) << level
            return Self.mth(leaves[start..<(start + (1 << level))])
        }
    }

    @Test func leafAndNodeHashesAreDomainSeparated() {
        // SHA-256 of the empty string, and of 0x00 alone (the empty leaf).
        #expect(MerkleTree.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(MerkleTree.leafHash([]).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        #expect(
            MerkleTree.nodeHash(Self.leaves[0], Self.leaves[1])
                != MerkleTree.leafHash(Self.leaves[0].bytes + Self.leaves[1].bytes)
        )
    }

    @Test(arguments: 0...8)
    func rootMatchesTheRecursiveDefinition(size: Int) throws {
        let leaves = Array(Self.leaves.prefix(size))
        #expect(MerkleTree.root(leaves) == Self.mth(leaves[...]))
        #expect(try MerkleTree.root(size: UInt64(size), Self.source(leaves)) == Self.mth(leaves[...]))
    }

    /// The 7-leaf tree of RFC 6962 §2.1.3, its nodes named as there.
    @Test func rfc6962ExampleProofs() throws {
        let d = Self.leaves
        let (a, b, c, dd, e, f, j) = (d[0], d[1], d[2], d[3], d[4], d[5], d[6])
        let g = MerkleTree.nodeHash(a, b)
        let h = MerkleTree.nodeHash(c, dd)
        let i = MerkleTree.nodeHash(e, f)
        let k = MerkleTree.nodeHash(g, h)
        let l = MerkleTree.nodeHash(i, j)
        let root = MerkleTree.nodeHash(k, l)
        let source = Self.source(Array(d.prefix(7)))
        #expect(try MerkleTree.root(size: 7, source) == root)
        #expect(try MerkleTree.inclusionProof(index: 0, size: 7, source) == [b, h, l])
        #expect(try MerkleTree.inclusionProof(index: 3, size: 7, source) == [c, g, l])
        #expect(try MerkleTree.inclusionProof(index: 4, size: 7, source) == [f, j, k])
        #expect(try MerkleTree.inclusionProof(index: 6, size: 7, source) == [i, k])
        #expect(try MerkleTree.consistencyProof(oldSize: 3, newSize: 7, source) == [c, dd, g, l])
        #expect(try MerkleTree.consistencyProof(oldSize: 4, newSize: 7, source) == [l])
        #expect(try MerkleTree.consistencyProof(oldSize: 6, newSize: 7, source) == [i, j, k])
        #expect(MerkleTree.verifyInclusion(leafHash: a, index: 0, size: 7, proof: [b, h, l], root: root))
        #expect(
            MerkleTree.verifyConsistency(
                oldSize: 3,
                oldRoot: MerkleTree.nodeHash(g, c),
                newSize: 7,
                newRoot: root,
                proof: [c, dd, g, l]
            )
        )
        #expect(MerkleTree.verifyConsistency(oldSize: 4, oldRoot: k, newSize: 7, newRoot: root, proof: [l]))
    }

    @Test func everyInclusionProofVerifiesAndNoAlteredOneDoes() throws {
        for size in 1...8 {
            let leaves = Array(Self.leaves.prefix(size))
            let root = Self.mth(leaves[...])
            for index in 0..<size {
                let proof = try MerkleTree.inclusionProof(index: UInt64(index), size: UInt64(size), Self.source(leaves))
                #expect(
                    MerkleTree.verifyInclusion(
                        leafHash: leaves[index],
                        index: UInt64(index),
                        size: UInt64(size),
                        proof: proof,
                        root: root
                    )
                )
                if size > 1 {
                    let other = leaves[(index + 1) % size]
                    #expect(
                        !MerkleTree.verifyInclusion(
                            leafHash: other,
                            index: UInt64(index),
                            size: UInt64(size),
                            proof: proof,
                            root: root
                        )
                    )
                }
                if !proof.isEmpty {
                    #expect(
                        !MerkleTree.verifyInclusion(
                            leafHash: leaves[index],
                            index: UInt64(index),
                            size: UInt64(size),
                            proof: Array(proof.dropLast()),
                            root: root
                        )
                    )
                }
            }
        }
    }

    @Test func everyConsistencyProofVerifiesAndForksDoNot() throws {
        for newSize in 1...8 {
            let leaves = Array(Self.leaves.prefix(newSize))
            let newRoot = Self.mth(leaves[...])
            for oldSize in 1...newSize {
                let oldRoot = Self.mth(leaves.prefix(oldSize)[...])
                let proof = try MerkleTree.consistencyProof(
                    oldSize: UInt64(oldSize),
                    newSize: UInt64(newSize),
                    Self.source(leaves)
                )
                #expect(
                    MerkleTree.verifyConsistency(
                        oldSize: UInt64(oldSize),
                        oldRoot: oldRoot,
                        newSize: UInt64(newSize),
                        newRoot: newRoot,
                        proof: proof
                    )
                )
                // A fork: the old tree had another last leaf.
                var forked = Array(leaves.prefix(oldSize))
                forked[oldSize - 1] = MerkleTree.leafHash([0xff])
                let forkedRoot = Self.mth(forked[...])
                #expect(
                    !MerkleTree.verifyConsistency(
                        oldSize: UInt64(oldSize),
                        oldRoot: forkedRoot,
                        newSize: UInt64(newSize),
                        newRoot: newRoot,
                        proof: proof
                    )
                )
            }
        }
    }

    @Test func frontierReportsEveryCompleteSubtree() {
        var frontier = MerkleTree.Frontier()
        var closed: [String] = []
        for leaf in Self.leaves.prefix(4) {
            frontier.append(leaf) { level, index, _ in closed.append("\(level).\(index)") }
        }
        #expect(closed == ["0.0", "0.1", "1.0", "0.2", "0.3", "1.1", "2.0"])
        #expect(frontier.root == Self.mth(Self.leaves.prefix(4)[...]))
    }

    @Test func leafDataIsCanonical() {
        let leaf = TransparencyLeaf(
            keyID: Bytes32(repeatElement(0x11, count: 32)) ?? .zero,
            epoch: 2,
            sequence: 3,
            receivedNanos: 4,
            batchHash: Bytes32(repeatElement(0x22, count: 32)) ?? .zero
        )
        let data = leaf.data
        #expect(data.count == 106)
        #expect(Array(data.prefix(18)) == Array("FLIGHTLOG-LEAF-V1".utf8) + [0])
        #expect(Array(data[50..<58]) == [0, 0, 0, 0, 0, 0, 0, 2])
        #expect(Array(data[58..<66]) == [0, 0, 0, 0, 0, 0, 0, 3])
        #expect(Array(data[66..<74]) == [0, 0, 0, 0, 0, 0, 0, 4])
        #expect(leaf.hash == MerkleTree.leafHash(data))
    }
}

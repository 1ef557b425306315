public import FlightlogEvidence
public import FlightlogWire
import Foundation
import GRDB

/// An inclusion proof of one batch against one checkpoint-sized tree, for export bundles.
public struct InclusionProof: Equatable, Sendable {
    public var leafIndex: UInt64
    public var treeSize: UInt64
    public var leaf: TransparencyLeaf
    public var path: [Bytes32]

    public init(leafIndex: UInt64, treeSize: UInt64, leaf: TransparencyLeaf, path: [Bytes32]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.leaf = leaf
        self.path = path
    }
}

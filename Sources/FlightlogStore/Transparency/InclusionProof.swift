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
}

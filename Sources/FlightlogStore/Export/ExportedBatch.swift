import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// A stored batch as a bundle holds it.
package struct ExportedBatch {
    package var agentID: Int64
    package var agent: String
    package var epoch: UInt64
    package var sequence: UInt64
    /// SHA-256 of the envelope, hex.
    package var hash: String
    package var envelope: [UInt8]
    /// Its place in the transparency log; nil only when the store was altered.
    package var leafIndex: UInt64?

    package init(
        agentID: Int64,
        agent: String,
        epoch: UInt64,
        sequence: UInt64,
        hash: String,
        envelope: [UInt8],
        leafIndex: UInt64?
    ) {
        self.agentID = agentID
        self.agent = agent
        self.epoch = epoch
        self.sequence = sequence
        self.hash = hash
        self.envelope = envelope
        self.leafIndex = leafIndex
    }
}

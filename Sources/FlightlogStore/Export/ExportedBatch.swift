import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

struct ExportedBatch {
    var agentID: Int64
    var agent: String
    var epoch: UInt64
    var sequence: UInt64
    var hash: String
    var envelope: [UInt8]
    /// Its place in the transparency log; nil only when the store was altered.
    var leafIndex: UInt64?
}

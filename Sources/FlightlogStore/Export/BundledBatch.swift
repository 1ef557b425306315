import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// A batch written into the bundle, waiting for its inclusion proof.
struct BundledBatch {
    var id: Int64
    var file: String
    var batch: ExportedBatch
    var sha256: String
    var leafIndex: UInt64
}

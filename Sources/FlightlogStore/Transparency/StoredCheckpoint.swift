public import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// A checkpoint as the `checkpoints` table holds it.
public struct StoredCheckpoint: Equatable, Sendable {
    public var id: Int64
    public var signedNanos: Int64
    public var signed: SignedCheckpoint

    public init(id: Int64, signedNanos: Int64, signed: SignedCheckpoint) {
        self.id = id
        self.signedNanos = signedNanos
        self.signed = signed
    }
}

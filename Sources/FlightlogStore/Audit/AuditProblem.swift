import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// A row of the audit trail that does not check out.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public var id: Int64
    public var detail: String
    public var description: String { "audit row \(self.id): \(self.detail)" }
}

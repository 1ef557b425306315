import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// The result of re-checking the audit trail's hash chain.
public struct AuditVerification: Sendable, Equatable {
    /// Rows checked.
    public var rows: Int
    /// The newest row's hash (hex), to be copied elsewhere: it pins everything before it.
    public var headHash: String?
    public var problems: [AuditProblem]
    public var isIntact: Bool { self.problems.isEmpty }
}

import Crypto
import FlightlogEvidence
public import FlightlogWire
import Foundation
import GRDB

/// A one-time enrolment token as `flightlog agents --tokens` lists it; its secret is never stored.
public struct EnrolmentToken: Equatable, Sendable {
    public var id: Int64
    /// The agent name the token enrols.
    public var name: String
    public var createdNanos: Int64
    public var expiresNanos: Int64
    /// The token may replace the key of an agent already enrolled under `name` (a reinstalled host).
    public var reenroll: Bool
    public var createdBy: String
    public var usedNanos: Int64?
    public var usedKey: Bytes32?
    public var usedPeer: String?
    public var revokedNanos: Int64?

    /// `unused`, `used`, `expired` or `revoked`, at `nowNanos`.
    public func state(nowNanos: Int64) -> String {
        if self.usedNanos != nil { return "used" }
        if self.revokedNanos != nil { return "revoked" }
        return nowNanos >= self.expiresNanos ? "expired" : "unused"
    }
}

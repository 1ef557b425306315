import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// Why a rotation was refused.
public struct RotationRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) { self.reason = reason }
    public var description: String { self.reason }
}

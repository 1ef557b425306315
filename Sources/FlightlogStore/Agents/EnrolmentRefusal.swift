import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// Why a token did not enrol a key: each case is what the agent is told and what the aggregator logs.
public enum EnrolmentRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownToken
    case expired(atNanos: Int64)
    case used(atNanos: Int64)
    case revoked(atNanos: Int64)
    /// The name is enrolled with another key and the token was not issued to re-enrol it.
    case nameTaken(String)
    /// The key is enrolled already (under `name`).
    case keyEnrolled(name: String)
    case badKey(String)

    public var description: String {
        switch self {
        case .unknownToken: "unknown token"
        case .expired(let at): "the token expired at \(Timestamp.rfc3339(at))"
        case .used(let at): "the token was used already, at \(Timestamp.rfc3339(at))"
        case .revoked(let at): "the token was revoked at \(Timestamp.rfc3339(at))"
        case .nameTaken(let name):
            "\(name) is enrolled with another key; issue a token with --reenroll to replace it (a reinstalled host)"
        case .keyEnrolled(let name): "this key is enrolled already, as \(name)"
        case .badKey(let why): "the key is refused: \(why)"
        }
    }
}

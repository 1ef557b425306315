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

    public init(
        id: Int64,
        name: String,
        createdNanos: Int64,
        expiresNanos: Int64,
        reenroll: Bool,
        createdBy: String,
        usedNanos: Int64?,
        usedKey: Bytes32?,
        usedPeer: String?,
        revokedNanos: Int64?
    ) {
        self.id = id
        self.name = name
        self.createdNanos = createdNanos
        self.expiresNanos = expiresNanos
        self.reenroll = reenroll
        self.createdBy = createdBy
        self.usedNanos = usedNanos
        self.usedKey = usedKey
        self.usedPeer = usedPeer
        self.revokedNanos = revokedNanos
    }

    /// `unused`, `used`, `expired` or `revoked`, at `nowNanos`.
    public func state(nowNanos: Int64) -> String {
        if self.usedNanos != nil { return "used" }
        if self.revokedNanos != nil { return "revoked" }
        return nowNanos >= self.expiresNanos ? "expired" : "unused"
    }
}

extension EnrolmentToken {
    /// A new secret, `flt1_` and 32 characters of base32 (160 random bits), with the SHA-256 a store keeps of it.
    public static func makeSecret() -> (token: String, hash: [UInt8]) {
        var random = SystemRandomNumberGenerator()
        let secret = (0..<20).map { _ in UInt8.random(in: 0...255, using: &random) }
        let token = SQLiteStore.tokenPrefix + Base32.encode(secret)
        return (token, Self.hash(token))
    }

    /// The SHA-256 a store keeps of `token`.
    public static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Whether two hashes are equal, in a time that does not depend on where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

public import FlightlogWire
import Foundation
import GRDB

/// An enrolled agent as the aggregator knows it.
public struct AgentRecord: Equatable, Sendable {
    public var id: Int64
    public var name: String
    /// The raw 32-byte Ed25519 public key.
    public var publicKey: Bytes32
    /// SHA-256 of the public key, as batches name it.
    public var keyID: Bytes32
    public var enrolledNanos: Int64
    public var revokedNanos: Int64?
    public var lastSeenNanos: Int64?
    /// Agent clock minus aggregator clock at the last handshake.
    public var lastSkewNanos: Int64?
    public var lastAddress: String?

    /// The key fingerprint shown to operators: `sha256:` and the first 16 hex digits of the key id.
    public var fingerprint: String { "sha256:" + String(self.keyID.hex.prefix(16)) }

    public init(
        id: Int64,
        name: String,
        publicKey: Bytes32,
        keyID: Bytes32,
        enrolledNanos: Int64,
        revokedNanos: Int64? = nil,
        lastSeenNanos: Int64? = nil,
        lastSkewNanos: Int64? = nil,
        lastAddress: String? = nil
    ) {
        self.id = id
        self.name = name
        self.publicKey = publicKey
        self.keyID = keyID
        self.enrolledNanos = enrolledNanos
        self.revokedNanos = revokedNanos
        self.lastSeenNanos = lastSeenNanos
        self.lastSkewNanos = lastSkewNanos
        self.lastAddress = lastAddress
    }
}

extension AgentRecord {
    /// Nil for a row whose key or key id is not 32 bytes; throws for a value of the wrong type.
    init?(row: Row) throws {
        guard let key = Bytes32(data: try row.decode(Data?.self, forColumn: "public_key")),
            let keyID = Bytes32(data: try row.decode(Data?.self, forColumn: "key_id"))
        else { return nil }
        self.init(
            id: try row.decode(Int64.self, forColumn: "id"),
            name: try row.decode(String.self, forColumn: "name"),
            publicKey: key,
            keyID: keyID,
            enrolledNanos: try row.decode(Int64.self, forColumn: "enrolled_ns"),
            revokedNanos: try row.decode(Int64?.self, forColumn: "revoked_ns"),
            lastSeenNanos: try row.decode(Int64?.self, forColumn: "last_seen_ns"),
            lastSkewNanos: try row.decode(Int64?.self, forColumn: "last_skew_ns"),
            lastAddress: try row.decode(String?.self, forColumn: "last_address")
        )
    }
}

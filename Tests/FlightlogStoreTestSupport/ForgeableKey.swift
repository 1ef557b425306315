import Crypto
public import FlightlogWire
import Foundation
import GRDB

/// The identity point as an agent key: a key of small order (PROTOCOL.md §1.1), under which swift-crypto alone
/// accepts a signature made without any private key, whatever the message.
public enum ForgeableKey {
    /// The identity point: [h]A is the identity for every h, so R = identity and S = 0 verify for any message.
    public static let identity = Bytes32([1] + [UInt8](repeating: 0, count: 31)) ?? .zero
    /// A signature made without any private key: R = the identity, S = 0.
    public static let forgedSignature: [UInt8] = [1] + [UInt8](repeating: 0, count: 63)

    /// Writes the identity as an enrolled key of `ws-forged` in the database at `path`, as an earlier release's
    /// `enroll` did; returns its agent id.
    public static func enrollIdentityByHand(_ path: String) throws -> Int64 {
        let queue = try DatabaseQueue(path: path)
        return try queue.write { db in
            try db.execute(
                sql: "INSERT INTO agents (name, public_key, key_id, enrolled_ns) VALUES (?, ?, ?, ?)",
                arguments: [
                    "ws-forged", Data(Self.identity.bytes), Data(SHA256.hash(data: Self.identity.bytes)), Int64(1),
                ]
            )
            return db.lastInsertedRowID
        }
    }
}

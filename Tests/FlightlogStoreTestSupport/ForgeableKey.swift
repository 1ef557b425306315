import Crypto
public import FlightlogTestSupport
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

    /// `count` chained batches of `forger`'s events (two a batch) carrying the identity's key id and the forged
    /// signature: what an earlier release stored after its handshake and signature check accepted them.
    public static func forgedChain(_ forger: TestAgent, count: Int) throws -> [SignedBatch] {
        let events = forger.events(2, prefix: "forged")
        var previous = Bytes32.zero
        var batches: [SignedBatch] = []
        for sequence in UInt64(1)...UInt64(count) {
            var envelope = try forger.batch(sequence: sequence, previous: previous, events: events).bytes
            envelope.replaceSubrange(8..<40, with: Array(SHA256.hash(data: Self.identity.bytes)))
            envelope.replaceSubrange((envelope.count - 64)..., with: Self.forgedSignature)
            let batch = try SignedBatch(bytes: envelope)
            batches.append(batch)
            previous = batch.hash
        }
        return batches
    }
}

public import FlightlogWire
import Foundation
import GRDB

/// Something about the evidence that an investigator must see (a gap, an equivocation, a new epoch…).
public struct ChainFinding: Equatable, Sendable {
    /// What kind of fact this is.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Batches of a chain are missing (sequence range in `fromSequence`…`toSequence`).
        case gap
        /// Two different batches claimed one sequence number.
        case equivocation
        /// A batch did not link to its predecessor's hash.
        case chainBroken = "chain_broken"
        /// An agent started a new chain (its state was wiped or it was reinstalled).
        case newEpoch = "new_epoch"
        /// A batch arrived after later ones and filled part of a gap.
        case lateBatch = "late_batch"
        /// A batch failed signature or format checks.
        case rejectedBatch = "rejected_batch"
        /// An agent's name was enrolled again with a new key (a token issued with `--reenroll`): its old key is
        /// retired.
        case reenrolled
        /// An enrolment was refused: the token was unknown, expired, used or revoked, or named an agent already
        /// enrolled with another key.
        case enrolmentRefused = "enrolment_refused"
    }

    public var id: Int64?
    public var kind: Kind
    public var agentID: Int64?
    public var epoch: UInt64?
    public var fromSequence: UInt64?
    public var toSequence: UInt64?
    public var batchHash: Bytes32?
    public var otherHash: Bytes32?
    public var detail: String
    public var atNanos: Int64

    public init(
        id: Int64? = nil,
        kind: Kind,
        agentID: Int64?,
        epoch: UInt64?,
        fromSequence: UInt64? = nil,
        toSequence: UInt64? = nil,
        batchHash: Bytes32? = nil,
        otherHash: Bytes32? = nil,
        detail: String,
        atNanos: Int64
    ) {
        self.id = id
        self.kind = kind
        self.agentID = agentID
        self.epoch = epoch
        self.fromSequence = fromSequence
        self.toSequence = toSequence
        self.batchHash = batchHash
        self.otherHash = otherHash
        self.detail = detail
        self.atNanos = atNanos
    }
}

extension ChainFinding {
    /// Nil for a kind this release does not know; throws for a value of the wrong type.
    init?(row: Row) throws {
        guard let kind = ChainFinding.Kind(rawValue: try row.decode(String.self, forColumn: "kind")) else { return nil }
        self.init(
            id: try row.decode(Int64.self, forColumn: "id"),
            kind: kind,
            agentID: try row.decode(Int64?.self, forColumn: "agent_id"),
            epoch: try row.decode(Int64?.self, forColumn: "epoch")?.unsignedValue,
            fromSequence: try row.decode(Int64?.self, forColumn: "from_seq")?.unsignedValue,
            toSequence: try row.decode(Int64?.self, forColumn: "to_seq")?.unsignedValue,
            batchHash: Bytes32(data: try row.decode(Data?.self, forColumn: "batch_hash")),
            otherHash: Bytes32(data: try row.decode(Data?.self, forColumn: "other_hash")),
            detail: try row.decode(String.self, forColumn: "detail"),
            atNanos: try row.decode(Int64.self, forColumn: "at_ns")
        )
    }
}

import FlightlogEvidence
import FlightlogWire

/// The findings and refusals of the ingest rules (PROTOCOL.md §7.4), worded once for every storage engine: each
/// store looks up what a rule needs (the revocation, the chain's head, the hash stored at a sequence) in its own
/// transaction, records the finding a ruling names, and answers its outcome.
public struct ChainRuling: Sendable {
    /// What to record.
    public var finding: ChainFinding
    /// What to answer, when the batch is not stored.
    public var outcome: IngestOutcome?

    /// A batch received at or after its agent's revocation: refused.
    public static func revoked(_ item: IngestItem, revokedNanos: Int64) -> ChainRuling {
        let batch = item.batch
        return ChainRuling(
            finding: Self.finding(
                .rejectedBatch,
                item,
                "revokedAgent: batch \(batch.sequence) received \(Timestamp.rfc3339(item.receivedNanos)), "
                    + "after the key was revoked at \(Timestamp.rfc3339(revokedNanos))"
            ),
            outcome: .refused(.revokedAgent, "this key was revoked")
        )
    }

    /// Another batch is stored at this sequence, with hash `stored`: refused.
    public static func equivocation(_ item: IngestItem, stored: [UInt8]) -> ChainRuling {
        let batch = item.batch
        return ChainRuling(
            finding: Self.finding(
                .equivocation,
                item,
                other: Bytes32(stored),
                "sequence \(batch.sequence) was already stored with hash \(stored.hexString); refused a different "
                    + "batch \(batch.hash.hex)"
            ),
            outcome: .refused(.equivocation, "sequence \(batch.sequence) is already stored with different content")
        )
    }

    /// A batch behind the chain's head that fills part of a gap: stored, and recorded.
    public static func late(_ item: IngestItem) -> ChainRuling {
        ChainRuling(
            finding: Self.finding(
                .lateBatch,
                item,
                "batch \(item.batch.sequence) arrived after later batches of its chain"
            ),
            outcome: nil
        )
    }

    /// A batch that does not name the stored predecessor's hash: refused.
    public static func broken(_ item: IngestItem) -> ChainRuling {
        let batch = item.batch
        return ChainRuling(
            finding: Self.finding(
                .chainBroken,
                item,
                other: batch.previousHash,
                "batch \(batch.sequence) names previous hash \(batch.previousHash.hex), which is not the stored "
                    + "predecessor"
            ),
            outcome: .refused(
                .chainBroken,
                "batch \(batch.sequence) does not link to the stored batch \(batch.sequence - 1)"
            )
        )
    }

    /// The first batch of a new epoch of an agent with other chains, not started by a rotation: stored, recorded.
    public static func newEpoch(_ item: IngestItem) -> ChainRuling {
        ChainRuling(
            finding: Self.finding(.newEpoch, item, "agent started a new chain, epoch \(item.batch.epoch)"),
            outcome: nil
        )
    }

    /// Batches `missing` of the chain are not stored: the batch is, and the gap recorded.
    public static func gap(_ item: IngestItem, missing: ClosedRange<UInt64>) -> ChainRuling {
        ChainRuling(
            finding: Self.finding(
                .gap,
                item,
                from: missing.lowerBound,
                to: missing.upperBound,
                "batches \(missing.lowerBound)…\(missing.upperBound) of epoch \(item.batch.epoch) are missing"
            ),
            outcome: nil
        )
    }

    private static func finding(
        _ kind: ChainFinding.Kind,
        _ item: IngestItem,
        from: UInt64? = nil,
        to: UInt64? = nil,
        other: Bytes32? = nil,
        _ detail: String
    ) -> ChainFinding {
        ChainFinding(
            kind: kind,
            agentID: item.agentID,
            epoch: item.batch.epoch,
            fromSequence: from ?? item.batch.sequence,
            toSequence: to ?? item.batch.sequence,
            batchHash: item.batch.hash,
            otherHash: other,
            detail: detail,
            atNanos: item.receivedNanos
        )
    }
}

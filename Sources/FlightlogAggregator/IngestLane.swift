import Synchronization

/// The batches one session hands to the ``GroupCommitter``, in the order they arrived (PROTOCOL.md §7.4 rule 4):
/// once one of them is not stored (its commit failed, the store refused it), none after it is, so that a live session
/// never leaves a gap in its chain.
///
/// Without it, a batch queued behind one whose commit failed on a full disk could fit into the next transaction:
/// stored with a `gap` finding, it moved the chain head past the batch that was not, the agent's next WELCOME named
/// that head, and the agent deleted from its spool the one batch the aggregator never had.
///
/// A session owns one lane for its whole life; the committer halts it. It goes away with the session and its queued
/// batches, so the committer keeps no record of sessions.
final class IngestLane: Sendable {
    private let haltedAt = Atomic<UInt64>(0)

    init() {}

    /// The sequence of the first batch of the lane that was not stored, if one was not.
    var halted: UInt64? {
        let sequence = self.haltedAt.load(ordering: .acquiring)
        return sequence == 0 ? nil : sequence
    }

    /// Batch `sequence` was not stored: neither is any batch queued or handed over after it.
    func halt(at sequence: UInt64) {
        // Sequences start at 1 (PROTOCOL.md §8 rule 2); a batch at 0 never decodes, but halt all the same.
        _ = self.haltedAt.compareExchange(expected: 0, desired: max(sequence, 1), ordering: .acquiringAndReleasing)
    }
}

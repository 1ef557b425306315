/// Finds entries that vanished before they were read, from the sequence numbers of the entries that were.
///
/// Within one sequence-number id (one journald, over all its files) sd-journal returns entries in sequence order,
/// so with no matches a jump of the number is that many entries never read: journald vacuumed or rotated them away
/// first, or their file is unreadable. With matches the numbers also skip the entries the matches leave out, so a
/// gap is only reported where the committed entry itself is gone, with its count unknown. A different
/// sequence-number id (new journal files, another machine's) cannot be compared either: count unknown.
struct JournalGapTracker {
    struct Gap: Equatable {
        /// How many entries vanished, when the numbers say.
        var missing: UInt64?
        var detail: String
    }

    let hasMatches: Bool
    /// The committed entry, until the first entry read after resuming shows whether it is still there.
    private var committed: JournalCursor?
    /// The last sequence number read under each sequence-number id (at most ``maxTrackedIDs``).
    private var lastSeqnum: [String: UInt64] = [:]

    /// Sequence-number ids remembered; a folder of remote journals has one per sender.
    static let maxTrackedIDs = 1024

    init(hasMatches: Bool) {
        self.hasMatches = hasMatches
    }

    /// Reading resumes after the committed entry `cursor`.
    mutating func resume(after cursor: JournalCursor?) {
        self.committed = cursor
        if let cursor { self.lastSeqnum[cursor.seqnumID] = cursor.seqnum }
    }

    /// The first entry after resuming is the committed one: nothing vanished there.
    mutating func committedEntryFound() {
        self.committed = nil
    }

    /// Takes in the next entry read (its parsed cursor); returns the gap before it, if any.
    @discardableResult
    mutating func read(_ cursor: JournalCursor?) -> Gap? {
        let gap = self.gap(before: cursor)
        self.committed = nil
        if let cursor {
            if self.lastSeqnum[cursor.seqnumID] == nil, self.lastSeqnum.count >= Self.maxTrackedIDs {
                self.lastSeqnum.removeAll(keepingCapacity: true)
            }
            self.lastSeqnum[cursor.seqnumID] = cursor.seqnum
        }
        return gap
    }

    private func gap(before cursor: JournalCursor?) -> Gap? {
        // Resuming, and the committed entry is gone: whatever followed it up to this entry may be gone too.
        if let committed = self.committed {
            guard let cursor, cursor.seqnumID == committed.seqnumID else {
                return Gap(
                    missing: nil,
                    detail: "the last entry shipped is gone and the journal now starts with another sequence-number "
                        + "id (s=\(cursor?.seqnumID ?? "?"), was s=\(committed.seqnumID))"
                )
            }
            let skipped = cursor.seqnum > committed.seqnum ? cursor.seqnum - committed.seqnum - 1 : 0
            guard skipped > 0 else { return nil }
            if self.hasMatches {
                return Gap(
                    missing: nil,
                    detail:
                        "the last entry shipped (seqnum \(committed.seqnum)) is gone, with up to \(skipped) entries "
                        + "after it (s=\(cursor.seqnumID)); with matches, how many of them matched is unknown"
                )
            }
            return Gap(missing: skipped, detail: Self.range(committed.seqnum, cursor))
        }
        guard !self.hasMatches, let cursor, let last = self.lastSeqnum[cursor.seqnumID], cursor.seqnum > last + 1
        else { return nil }
        return Gap(missing: cursor.seqnum - last - 1, detail: Self.range(last, cursor))
    }

    private static func range(_ last: UInt64, _ cursor: JournalCursor) -> String {
        "sequence numbers \(last + 1)…\(cursor.seqnum - 1) of s=\(cursor.seqnumID)"
    }
}

/// The parts of a journal cursor, `s=SEQNUM_ID;i=SEQNUM;b=BOOT_ID;m=MONOTONIC;t=REALTIME;x=XOR_HASH`, the numbers
/// in hex as sd-journal writes them.
///
/// The sequence number counts every entry journald wrote under one sequence-number id (one journald, across its
/// files): within an id, entries are read in sequence order, so a jump means entries the reader never saw.
/// Debian 12's libsystemd 252 has no `sd_journal_get_seqnum`; the cursor carries the same numbers.
struct JournalCursor: Equatable, Sendable {
    var seqnumID: String
    var seqnum: UInt64
    var bootID: String
    var realtimeMicros: UInt64

    /// Parses a cursor as sd-journal formats it; nil when a part is missing or malformed.
    init?(_ text: String) {
        var seqnumID: String?
        var seqnum: UInt64?
        var bootID: String?
        var realtime: UInt64?
        for part in text.split(separator: ";") {
            guard let equals = part.firstIndex(of: "=") else { return nil }
            let value = part[part.index(after: equals)...]
            switch part[..<equals] {
            case "s": seqnumID = String(value)
            case "i": seqnum = UInt64(value, radix: 16)
            case "b": bootID = String(value)
            case "t": realtime = UInt64(value, radix: 16)
            default: break
            }
        }
        guard let seqnumID, let seqnum, let bootID, let realtime, !seqnumID.isEmpty else { return nil }
        self.seqnumID = seqnumID
        self.seqnum = seqnum
        self.bootID = bootID
        self.realtimeMicros = realtime
    }
}

/// Where the journal source resumes: committed in `chain.json` with every batch, exactly like file offsets, so a
/// kill -9 neither loses nor repeats an entry.
public struct JournalPosition: Codable, Sendable, Equatable {
    /// The cursor of the last entry in a committed batch (nil: nothing read yet).
    public var cursor: String?
    /// The boot of the last entry read per host name (`_HOSTNAME`), to ship a new boot as an event once.
    public var boots: [String: String]

    public init(cursor: String? = nil, boots: [String: String] = [:]) {
        self.cursor = cursor
        self.boots = boots
    }
}

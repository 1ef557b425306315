/// The parts of a journal cursor, `s=SEQNUM_ID;i=SEQNUM;b=BOOT_ID;m=MONOTONIC;t=REALTIME;x=XOR_HASH`, the numbers
/// in hex as sd-journal writes them.
///
/// The sequence number counts every entry journald wrote under one sequence-number id (one journald, across its
/// files): within an id, entries are read in sequence order, so a jump means entries the reader never saw.
/// Debian 12's libsystemd 252 has no `sd_journal_get_seqnum`; the cursor carries the same numbers.
struct JournalCursor: Equatable, Sendable {
    var seqnumID: String
    var seqnum: UInt64

    /// Reads the sequence-number id and number of a cursor as sd-journal writes it (`s=…;i=…;`, always first), from
    /// its C string: per entry, without the allocations of splitting a string. `idCache` holds the last id read, so
    /// that the entries of one journal share one string.
    init?(cString: UnsafePointer<CChar>, idCache: inout String) {
        let bytes = UnsafeRawPointer(cString).assumingMemoryBound(to: UInt8.self)
        guard bytes[0] == UInt8(ascii: "s"), bytes[1] == UInt8(ascii: "=") else { return nil }
        var index = 2
        while bytes[index] != 0, bytes[index] != UInt8(ascii: ";") { index += 1 }
        guard index > 2, bytes[index] == UInt8(ascii: ";"), bytes[index + 1] == UInt8(ascii: "i"),
            bytes[index + 2] == UInt8(ascii: "=")
        else { return nil }
        let idBytes = UnsafeBufferPointer(start: bytes + 2, count: index - 2)
        if !idCache.utf8.elementsEqual(idBytes) { idCache = String(decoding: idBytes, as: UTF8.self) }
        let id = idCache
        index += 3
        var seqnum: UInt64 = 0
        var digits = 0
        while digits < 16 {
            let byte = bytes[index]
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            default: value = 0xff
            }
            guard value != 0xff else { break }
            seqnum = seqnum << 4 | UInt64(value)
            digits += 1
            index += 1
        }
        guard digits > 0, bytes[index] == UInt8(ascii: ";") || bytes[index] == 0 else { return nil }
        self.seqnumID = id
        self.seqnum = seqnum
    }

    /// A cursor as text (the one committed in `chain.json`), read by the same parser.
    init?(_ text: String) {
        var cache = ""
        guard let parsed = text.withCString({ JournalCursor(cString: $0, idCache: &cache) }) else { return nil }
        self = parsed
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

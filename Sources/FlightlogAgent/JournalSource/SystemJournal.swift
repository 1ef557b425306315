#if canImport(CSystemdJournal)
import CSystemdJournal
import Glibc
#endif

/// One open handle on the systemd journal, through libsystemd's sd-journal API (as `journalctl` reads it).
///
/// Not thread-safe, like the handle it wraps: one owner calls it at a time (the collector actor). sd-journal skips
/// a file it cannot iterate (a corrupt or truncated one) and keeps reading the others, as journalctl does; it
/// notices new, rotated and deleted files when ``process()`` runs.
final class SystemJournal {
    /// The largest data object read whole: longer ones come cut at this many bytes (sd-journal's data threshold).
    /// A `MESSAGE=` of up to the wire's line limit fits.
    static let dataThreshold = 64 * 1024 + 16

    #if canImport(CSystemdJournal)
    private let handle: OpaquePointer
    /// The cursor of the entry read last (sd-journal's allocation, freed when replaced).
    private var lastCursor: UnsafeMutablePointer<CChar>?
    #endif
    private var seqnumIDCache = ""

    /// Opens the local system journal, or the journal files of `directory` (as `journalctl -D`), and keeps to
    /// entries that pass `matches` (`FIELD=value`; the same field twice is either value, different fields must all
    /// match, as journalctl reads its matches).
    init(directory: String?, matches: [String]) throws(AgentError) {
        #if canImport(CSystemdJournal)
        var opened: OpaquePointer?
        let result: Int32
        if let directory {
            result = sd_journal_open_directory(&opened, directory, 0)
        } else {
            result = sd_journal_open(&opened, Int32(SD_JOURNAL_LOCAL_ONLY))
        }
        guard result >= 0, let opened else {
            throw AgentError.io(path: directory ?? "system journal", reason: Self.describe(result, "cannot open"))
        }
        self.handle = opened
        _ = sd_journal_set_data_threshold(opened, Self.dataThreshold)
        for match in matches {
            let bytes = Array(match.utf8)
            let added = bytes.withUnsafeBytes { sd_journal_add_match(opened, $0.baseAddress, $0.count) }
            guard added >= 0 else {
                sd_journal_close(opened)
                throw AgentError.configuration("journal match '\(match)': \(Self.describe(added, "rejected"))")
            }
        }
        // Sets up inotify, so that process() sees files appear, grow, rotate and vanish.
        _ = sd_journal_get_fd(opened)
        #else
        throw AgentError.configuration("the journal source needs libsystemd (Linux)")
        #endif
    }

    deinit {
        #if canImport(CSystemdJournal)
        free(self.lastCursor)
        sd_journal_close(self.handle)
        #endif
    }

    /// The cursor of the entry read last, as text; nil before the first.
    var lastCursorText: String? {
        #if canImport(CSystemdJournal)
        return self.lastCursor.map { String(cString: $0) }
        #else
        return nil
        #endif
    }

    /// Bytes of journal files found; 0 when there is none (journald not running, or not storing, or no permission).
    var usageBytes: UInt64 {
        #if canImport(CSystemdJournal)
        var bytes: UInt64 = 0
        return sd_journal_get_usage(self.handle, &bytes) >= 0 ? bytes : 0
        #else
        return 0
        #endif
    }

    /// Takes in what changed on disk since the last call (new entries, new, rotated or deleted files).
    func process() {
        #if canImport(CSystemdJournal)
        _ = sd_journal_process(self.handle)
        #endif
    }

    /// Before the first entry.
    func seekHead() {
        #if canImport(CSystemdJournal)
        _ = sd_journal_seek_head(self.handle)
        #endif
    }

    /// On the last entry, so that ``next()`` returns only entries written after it; nil when the journal is empty.
    func seekLastEntry() -> JournalEntry? {
        #if canImport(CSystemdJournal)
        _ = sd_journal_seek_tail(self.handle)
        guard sd_journal_previous(self.handle) > 0 else { return nil }
        return self.current()
        #else
        return nil
        #endif
    }

    /// Just before the entry `cursor` names, or where it would be if it is gone. Returns false if the cursor is
    /// not one.
    func seek(cursor: String) -> Bool {
        #if canImport(CSystemdJournal)
        return sd_journal_seek_cursor(self.handle, cursor) >= 0
        #else
        return false
        #endif
    }

    /// Whether the current entry is the one `cursor` names.
    func currentIs(cursor: String) -> Bool {
        #if canImport(CSystemdJournal)
        return sd_journal_test_cursor(self.handle, cursor) > 0
        #else
        return false
        #endif
    }

    /// Moves to the next entry and reads it; nil at the end (or on an error, which ends this round).
    func next() -> JournalEntry? {
        #if canImport(CSystemdJournal)
        guard sd_journal_next(self.handle) > 0 else { return nil }
        return self.current()
        #else
        return nil
        #endif
    }

    #if canImport(CSystemdJournal)
    private func current() -> JournalEntry? {
        var cursorPointer: UnsafeMutablePointer<CChar>?
        guard sd_journal_get_cursor(self.handle, &cursorPointer) >= 0, let cursorPointer else { return nil }
        free(self.lastCursor)
        self.lastCursor = cursorPointer
        var realtime: UInt64 = 0
        _ = sd_journal_get_realtime_usec(self.handle, &realtime)
        var entry = JournalEntry(
            realtimeMicros: realtime,
            cursor: JournalCursor(cString: cursorPointer, idCache: &self.seqnumIDCache)
        )
        var data: UnsafeRawPointer?
        var length = 0
        sd_journal_restart_data(self.handle)
        // The available data only: a corrupt object is skipped, as journalctl skips it. Only the fields the agent
        // reads become Swift values.
        while sd_journal_enumerate_available_data(self.handle, &data, &length) > 0 {
            guard let data, let equals = memchr(data, Int32(UInt8(ascii: "=")), length) else { continue }
            let nameLength = data.distance(to: UnsafeRawPointer(equals))
            guard let field = JournalField.named(UnsafeRawBufferPointer(start: data, count: nameLength)) else {
                continue
            }
            entry.set(field, UnsafeRawBufferPointer(start: data + nameLength + 1, count: length - nameLength - 1))
        }
        return entry
    }

    private static func describe(_ result: Int32, _ what: String) -> String {
        "\(what): \(String(cString: strerror(-result)))"
    }
    #endif
}

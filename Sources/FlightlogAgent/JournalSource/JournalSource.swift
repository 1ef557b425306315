/// Reads the systemd journal for the collector: entries after the committed cursor, the gaps where entries
/// vanished before they were read, and new boots.
///
/// Like the file tailer it hands out entries and keeps a ``position`` just after the last one; the collector
/// commits that position with the batch holding them, so a restart resumes exactly there.
///
/// Gaps are found from sequence numbers (``JournalGapTracker``).
final class JournalSource {
    /// What the source reports besides entries, shipped by the collector as the agent's own events.
    enum Notice: Equatable {
        /// Reading starts (`resumed`: at the committed cursor; else at the head or, with start-at-end, the tail).
        case opened(name: String, resumed: Bool)
        /// No journal file was found when reading started: nothing to read until journald writes one.
        case noFiles(name: String)
        /// Entries vanished before they were read: `missing` of them, or an unknown number. `detail` says where.
        case gap(missing: UInt64?, detail: String)
        /// The first entry of a boot of `host` (`_BOOT_ID` differs from the previous entry of that host).
        case boot(host: String, bootID: String, previous: String?)
    }

    /// The entries read, with the position after the last of them.
    struct Read {
        var entries: [JournalEntry] = []
        var notices: [Notice] = []
        var bytes = 0
    }

    /// The source name events carry: `journal`, or `journal:DIR` for a folder's files.
    let name: String
    private let journal: SystemJournal
    /// The committed cursor still to be compared with the first entry read after it.
    private var confirmText: String?
    private var gaps: JournalGapTracker
    private(set) var position: JournalPosition
    private var pendingNotices: [Notice] = []

    /// Hosts whose boot is remembered.
    static let maxTrackedHosts = 1024

    init(
        directory: String?,
        matches: [String],
        startAtEnd: Bool,
        saved: JournalPosition?
    ) throws(AgentError) {
        self.name = directory.map { "journal:" + $0 } ?? "journal"
        self.journal = try SystemJournal(directory: directory, matches: matches)
        self.gaps = JournalGapTracker(hasMatches: !matches.isEmpty)
        self.position = saved ?? JournalPosition()
        if let cursor = saved?.cursor, self.journal.seek(cursor: cursor) {
            self.confirmText = cursor
            self.gaps.resume(after: JournalCursor(cursor))
            self.pendingNotices.append(.opened(name: self.name, resumed: true))
        } else if startAtEnd {
            if let last = self.journal.seekLastEntry() {
                self.position.cursor = self.journal.lastCursorText
                self.gaps.read(last.cursor)
            }
            self.pendingNotices.append(.opened(name: self.name, resumed: false))
        } else {
            self.journal.seekHead()
            self.pendingNotices.append(.opened(name: self.name, resumed: false))
        }
        if self.journal.usageBytes == 0 { self.pendingNotices.append(.noFiles(name: self.name)) }
    }

    /// Reads up to `maxEntries` entries and about `maxBytes` of their data.
    func poll(maxEntries: Int, maxBytes: Int) -> Read {
        var read = Read()
        read.notices = self.pendingNotices
        self.pendingNotices.removeAll()
        guard maxEntries > 0 else { return read }
        self.journal.process()
        while read.entries.count < maxEntries, read.bytes < maxBytes, let entry = self.journal.next() {
            if let confirm = self.confirmText {
                self.confirmText = nil
                // The committed entry is still there: it was shipped; read on after it.
                if self.journal.currentIs(cursor: confirm) {
                    self.gaps.committedEntryFound()
                    continue
                }
            }
            if let gap = self.gaps.read(entry.cursor) {
                read.notices.append(.gap(missing: gap.missing, detail: gap.detail))
            }
            if let boot = self.boot(of: entry) { read.notices.append(boot) }
            read.bytes += (entry.message?.count ?? 0) + 256
            read.entries.append(entry)
        }
        if !read.entries.isEmpty { self.position.cursor = self.journal.lastCursorText }
        return read
    }

    private func boot(of entry: JournalEntry) -> Notice? {
        guard let boot = entry[.bootID] else { return nil }
        let host = entry[.hostname] ?? ""
        let previous = self.position.boots[host]
        guard previous != boot else { return nil }
        if previous == nil, self.position.boots.count >= Self.maxTrackedHosts { self.position.boots.removeAll() }
        self.position.boots[host] = boot
        return .boot(host: host, bootID: boot, previous: previous)
    }
}

import FlightlogWire
import Logging

extension Collector {
    /// Reads what fits of the journal into the pending batch; returns whether any entry was read.
    func pollJournal(_ source: JournalSource, nowNanos: Int64) -> Bool {
        let roomEvents = self.configuration.batchMaxEvents - self.pending.eventCount
        let roomBytes = self.configuration.batchMaxBytes - self.pendingBytes
        guard roomEvents > 0, roomBytes > 256 else { return false }
        let read = source.poll(maxEntries: roomEvents, maxBytes: roomBytes / 2)
        for notice in read.notices { self.record(notice) }
        let sourceName =
            source.name.utf8.count <= WireLimits.maxSourceLength
            ? source.name : source.name.truncatedToUTF8Length(WireLimits.maxSourceLength)
        for entry in read.entries {
            let mapped = self.parser.parseJournal(entry)
            self.append(
                timeNanos: mapped.timeNanos,
                observedNanos: nowNanos,
                flags: .timeFromLine,
                source: sourceName,
                line: mapped.line,
                fields: mapped.encodedFields
            )
        }
        self.counters.add("journal_entries_read", UInt64(read.entries.count))
        return !read.entries.isEmpty
    }

    private func record(_ notice: JournalSource.Notice) {
        switch notice {
        case .opened(let name, let resumed):
            self.logger.info("Reading the journal", metadata: ["journal": "\(name)", "resumed": "\(resumed)"])
            self.lifecycle(
                "journal_opened",
                "flightlog-agent opened \(name) "
                    + (resumed
                        ? "at the committed cursor" : self.configuration.startAtEnd ? "at its end" : "at its start"),
                [Event.Field("path", name)]
            )
        case .noFiles(let name):
            self.counters.add("journal_no_files")
            self.logger.warning(
                "No journal file found: is journald running and storing (/var/log/journal, /run/log/journal), and may this user read it (root or group systemd-journal)?",
                metadata: ["journal": "\(name)"]
            )
            self.lifecycle(
                "journal_no_files",
                "flightlog-agent found no journal file in \(name); it reads what journald writes from now on",
                [Event.Field("path", name)]
            )
        case .gap(let missing, let detail):
            self.counters.add("journal_gaps")
            if let missing { self.counters.add("journal_entries_missed", missing) }
            self.logger.warning("Journal entries vanished before they were read", metadata: ["detail": "\(detail)"])
            let count = missing.map { "\($0) journal entries" } ?? "journal entries (count unknown)"
            self.lifecycle(
                "journal_gap",
                "flightlog-agent saw \(count) vanish before it read them: \(detail)",
                [Event.Field("missing", missing.map { String($0) } ?? "unknown")]
            )
        case .boot(let host, let bootID, let previous):
            self.lifecycle(
                "journal_boot",
                "flightlog-agent saw a new boot of \(host.isEmpty ? "the host" : host) in the journal: boot \(bootID)"
                    + (previous.map { ", after boot \($0)" } ?? ""),
                [Event.Field("hostname", host), Event.Field("boot_id", bootID)]
            )
        }
    }
}

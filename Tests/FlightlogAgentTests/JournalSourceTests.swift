import FlightlogTestSupport
import FlightlogWire
import Foundation
import Glibc
import Testing

@testable import FlightlogAgent

/// The journal source on real journal files, written by systemd-journal-remote and read through libsystemd.
@Suite struct JournalSourceTests {
    let dir: TempDirectory

    init() throws {
        self.dir = try TempDirectory()
    }

    private func entries(_ range: Range<Int>, tag: String = "app") -> [JournalFiles.Entry] {
        range.map {
            JournalFiles.Entry([
                ("_HOSTNAME", "ws-7"), ("SYSLOG_IDENTIFIER", tag), ("_COMM", tag), ("_PID", "\(100 + $0)"),
                ("MESSAGE", "entry \($0)"),
            ])
        }
    }

    private func messages(_ read: JournalSource.Read) -> [String] {
        read.entries.compactMap { entry in entry.message.map { String(decoding: $0, as: UTF8.self) } }
    }

    private func source(
        _ saved: JournalPosition? = nil,
        matches: [String] = [],
        atEnd: Bool = false
    ) throws
        -> JournalSource
    {
        try JournalSource(directory: self.dir.file("journal"), matches: matches, startAtEnd: atEnd, saved: saved)
    }

    private var journalFile: String { self.dir.file("journal/remote.journal") }

    private func makeJournalDirectory() throws {
        try FileManager.default.createDirectory(atPath: self.dir.file("journal"), withIntermediateDirectories: true)
    }

    /// Resuming at the committed cursor reads exactly what follows it, and entries appended while the source runs
    /// are read as they arrive, with no gap reported.
    @Test func resumesExactlyAfterTheCommittedCursorAndFollowsAppends() throws {
        try self.makeJournalDirectory()
        let start = JournalFiles.nowMicros()
        try JournalFiles.append(self.entries(0..<10), to: self.journalFile, firstMicros: start)

        let first = try self.source()
        let read = first.poll(maxEntries: 4, maxBytes: 1 << 20)
        #expect(self.messages(read) == (0..<4).map { "entry \($0)" })
        #expect(
            read.notices == [
                .opened(name: first.name, resumed: false),
                .boot(host: "ws-7", bootID: JournalFiles.boot, previous: nil),
            ]
        )
        let committed = first.position

        let second = try self.source(committed)
        let rest = second.poll(maxEntries: 100, maxBytes: 1 << 20)
        #expect(self.messages(rest) == (4..<10).map { "entry \($0)" })
        #expect(rest.notices == [.opened(name: second.name, resumed: true)])

        try JournalFiles.append(self.entries(10..<15), to: self.journalFile, firstMicros: start + 100)
        let appended = second.poll(maxEntries: 100, maxBytes: 1 << 20)
        #expect(self.messages(appended) == (10..<15).map { "entry \($0)" })
        #expect(appended.notices.isEmpty)
        #expect(second.poll(maxEntries: 100, maxBytes: 1 << 20).entries.isEmpty)
    }

    /// journald's rotation: the active file is renamed to an archived name and a new one takes its place. The rest
    /// of the archived file and the new file are read, each entry once, while the source runs and after a restart.
    @Test func rotationReadsTheArchivedFileToItsEndThenTheNewOne() throws {
        try self.makeJournalDirectory()
        let start = JournalFiles.nowMicros()
        try JournalFiles.append(self.entries(0..<5), to: self.journalFile, firstMicros: start)
        let source = try self.source()
        #expect(self.messages(source.poll(maxEntries: 3, maxBytes: 1 << 20)) == ["entry 0", "entry 1", "entry 2"])
        try FileManager.default.moveItem(
            atPath: self.journalFile,
            toPath: self.dir.file("journal/remote@0000000000000001-0000000000000005.journal")
        )
        try JournalFiles.append(self.entries(5..<8), to: self.journalFile, firstMicros: start + 100)
        let read = source.poll(maxEntries: 100, maxBytes: 1 << 20)
        #expect(self.messages(read) == (3..<8).map { "entry \($0)" })
        #expect(!read.notices.contains { if case .gap = $0 { true } else { false } })

        try JournalFiles.append(self.entries(8..<10), to: self.journalFile, firstMicros: start + 200)
        let restarted = try self.source(source.position)
        #expect(self.messages(restarted.poll(maxEntries: 100, maxBytes: 1 << 20)) == ["entry 8", "entry 9"])
    }

    /// An empty folder (journald not storing yet) is said once; what is written later is read.
    @Test func noJournalFileIsReportedThenFilesAreRead() throws {
        try self.makeJournalDirectory()
        let source = try self.source()
        let first = source.poll(maxEntries: 100, maxBytes: 1 << 20)
        #expect(first.notices == [.opened(name: source.name, resumed: false), .noFiles(name: source.name)])
        try JournalFiles.append(self.entries(0..<2), to: self.journalFile, firstMicros: JournalFiles.nowMicros())
        #expect(self.messages(source.poll(maxEntries: 100, maxBytes: 1 << 20)) == ["entry 0", "entry 1"])
    }

    /// With start-at-end, what the journal held before is skipped and what comes after is read.
    @Test func startAtEndReadsOnlyNewEntries() throws {
        try self.makeJournalDirectory()
        let start = JournalFiles.nowMicros()
        try JournalFiles.append(self.entries(0..<5), to: self.journalFile, firstMicros: start)
        let source = try self.source(atEnd: true)
        #expect(source.poll(maxEntries: 100, maxBytes: 1 << 20).entries.isEmpty)
        try JournalFiles.append(self.entries(5..<7), to: self.journalFile, firstMicros: start + 100)
        #expect(self.messages(source.poll(maxEntries: 100, maxBytes: 1 << 20)) == ["entry 5", "entry 6"])
    }

    /// Matches keep to the entries they name, as journalctl's do: the same field twice is either value.
    @Test func matchesSelectEntries() throws {
        try self.makeJournalDirectory()
        let start = JournalFiles.nowMicros()
        try JournalFiles.append(
            self.entries(0..<3, tag: "sshd") + self.entries(3..<6, tag: "cron") + self.entries(6..<9, tag: "sudo"),
            to: self.journalFile,
            firstMicros: start
        )
        let source = try self.source(matches: ["SYSLOG_IDENTIFIER=sshd", "SYSLOG_IDENTIFIER=sudo"])
        let read = source.poll(maxEntries: 100, maxBytes: 1 << 20)
        #expect(self.messages(read) == ["entry 0", "entry 1", "entry 2", "entry 6", "entry 7", "entry 8"])
        // With matches the sequence numbers jump over what they leave out: that is no gap.
        #expect(!read.notices.contains { if case .gap = $0 { true } else { false } })
    }

    /// The committed entry's file is gone (vacuumed) and the journal goes on in a new file: the loss is reported
    /// as a gap of unknown size (other sequence-number id), and the new file is read whole.
    @Test func aVanishedJournalIsAGapOfUnknownSize() throws {
        try self.makeJournalDirectory()
        let start = JournalFiles.nowMicros()
        try JournalFiles.append(self.entries(0..<6), to: self.journalFile, firstMicros: start)
        let first = try self.source()
        _ = first.poll(maxEntries: 3, maxBytes: 1 << 20)
        let committed = first.position
        try FileManager.default.removeItem(atPath: self.journalFile)
        try JournalFiles.append(
            self.entries(10..<13),
            to: self.dir.file("journal/next.journal"),
            firstMicros: start + 50
        )

        let second = try self.source(committed)
        let read = second.poll(maxEntries: 100, maxBytes: 1 << 20)
        #expect(self.messages(read) == ["entry 10", "entry 11", "entry 12"])
        let gaps = read.notices.compactMap { notice -> UInt64?? in
            if case .gap(let missing, _) = notice { return missing } else { return nil }
        }
        #expect(gaps == [nil])
    }

    /// Several journal files (two senders, each its own sequence-number id) are read interleaved by time, every
    /// entry once, with no gap claimed between them.
    @Test func filesOfSeveralSendersAreInterleavedWithoutFalseGaps() throws {
        try self.makeJournalDirectory()
        let start = JournalFiles.nowMicros()
        let a = (0..<5).map {
            JournalFiles.Entry([("__REALTIME_TIMESTAMP", "\(start + UInt64($0) * 10)"), ("MESSAGE", "a\($0)")])
        }
        let b = (0..<5).map {
            JournalFiles.Entry([("__REALTIME_TIMESTAMP", "\(start + UInt64($0) * 10 + 5)"), ("MESSAGE", "b\($0)")])
        }
        try JournalFiles.append(a, to: self.dir.file("journal/a.journal"), firstMicros: start)
        try JournalFiles.append(b, to: self.dir.file("journal/b.journal"), firstMicros: start)
        let read = try self.source().poll(maxEntries: 100, maxBytes: 1 << 20)
        #expect(self.messages(read) == ["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4"])
        #expect(!read.notices.contains { if case .gap = $0 { true } else { false } })
    }

    /// A journal file cut short in the middle is handled as journalctl handles it: the source reads exactly the
    /// entries `journalctl -D` prints, and does not stop at the damaged file.
    @Test func aTruncatedFileIsReadAsJournalctlReadsIt() async throws {
        try self.makeJournalDirectory()
        let start = JournalFiles.nowMicros()
        let long = (0..<400).map {
            JournalFiles.Entry([("MESSAGE", "damaged \($0) " + String(repeating: "\($0 % 10)", count: 300))])
        }
        try JournalFiles.append(long, to: self.dir.file("journal/damaged.journal"), firstMicros: start)
        try JournalFiles.append(self.entries(0..<5), to: self.journalFile, firstMicros: start + 1000)
        // Cut inside the entries (the file is sparse beyond what was written).
        let damaged = self.dir.file("journal/damaged.journal")
        #expect(truncate(damaged, 96 * 1024) == 0)

        let journalctl = try await Subprocess.runAsync(
            "/usr/bin/journalctl",
            ["-D", self.dir.file("journal"), "-o", "export", "--no-pager"]
        )
        let expected = journalctl.stdout.split(separator: "\n").filter { $0.hasPrefix("MESSAGE=") }.map {
            String($0.dropFirst(8))
        }
        let read = try self.source().poll(maxEntries: 10_000, maxBytes: 64 << 20)
        #expect(self.messages(read) == expected)
        #expect(self.messages(read).suffix(5) == (0..<5).map { "entry \($0)" }[...])
    }

    /// The same sshd and PAM messages give the same users, addresses and actions from the journal as from a
    /// syslog file: loghub's OpenSSH and Linux samples (https://github.com/logpai/loghub, the fixtures of
    /// RealLogTests), each line turned into the journal entry journald would have stored for it.
    @Test func journalEntriesGiveTheFieldsOfTheirSyslogLines() throws {
        try self.makeJournalDirectory()
        var lines: [String] = []
        var entries: [JournalFiles.Entry] = []
        for name in ["OpenSSH_2k.log", "Linux_2k.log"] {
            let text = try String(
                contentsOf: RepositoryFiles.fixtures.appendingPathComponent("loghub/" + name),
                encoding: .isoLatin1
            )
            for raw in text.split(whereSeparator: \.isNewline) {
                let line = String(raw)
                // `Mon dd hh:mm:ss HOST TAG[PID]: MESSAGE`
                let words = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
                guard words.count == 5, let colon = words[4].range(of: ": ") else { continue }
                let tag = words[4][..<colon.lowerBound]
                let message = String(words[4][colon.upperBound...])
                var identifier = String(tag)
                var pid: String?
                if let open = tag.firstIndex(of: "["), tag.hasSuffix("]") {
                    identifier = String(tag[..<open])
                    pid = String(tag[tag.index(after: open)..<tag.index(before: tag.endIndex)])
                }
                guard !identifier.contains(" "), !identifier.isEmpty else { continue }
                var fields = [("_HOSTNAME", String(words[3])), ("SYSLOG_IDENTIFIER", identifier)]
                if let pid { fields.append(("_PID", pid)) }
                fields.append(("MESSAGE", message))
                entries.append(JournalFiles.Entry(fields))
                lines.append(line)
            }
        }
        try JournalFiles.append(entries, to: self.journalFile, firstMicros: JournalFiles.nowMicros())
        let read = try self.source().poll(maxEntries: 10_000, maxBytes: 64 << 20)
        #expect(read.entries.count == lines.count)

        let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)
        let compared = ["user", "src_ip", "src_port", "action", "outcome", "program", "pid", "hostname", "target_user"]
        var withUserOrIP = 0
        var differences: [String] = []
        for (line, entry) in zip(lines, read.entries) {
            let fromFile = parser.parse(Array(line.utf8), observedNanos: 0).fields
            let fromJournal = parser.parseJournal(entry).fields
            for key in compared {
                let a = fromFile.first { $0.key == key }?.value
                let b = fromJournal.first { $0.key == key }?.value
                if a != b { differences.append("\(key): file \(a ?? "-") journal \(b ?? "-") in \(line)") }
            }
            if fromJournal.contains(where: { $0.key == "user" || $0.key == "src_ip" }) { withUserOrIP += 1 }
        }
        #expect(differences.isEmpty, "\(differences.prefix(5))")
        // Most of these lines name a user or an address: the comparison is not of empty sets.
        #expect(withUserOrIP > 2000, "\(withUserOrIP)")
    }
}

/// How one journal entry maps onto the schema.
@Suite struct JournalEntryMappingTests {
    let parser = LineParser(timeZone: TimeZone(identifier: "UTC") ?? .current)

    private func map(_ fields: [(String, String)], micros: UInt64 = 1_765_000_000_000_000) -> JournalEvent {
        self.parser.parseJournal(JournalEntry(realtimeMicros: micros, pairs: fields.map { ($0.0, Array($0.1.utf8)) }))
    }

    private func value(_ event: JournalEvent, _ key: String) -> String? {
        event.fields.first { $0.key == key }?.value
    }

    @Test func trustedFieldsAndTheMessageMap() {
        let event = self.map([
            ("__REALTIME_TIMESTAMP", "1"), ("_HOSTNAME", "ws-7"), ("SYSLOG_IDENTIFIER", "sshd"), ("_COMM", "sshd"),
            ("_EXE", "/usr/sbin/sshd"), ("_CMDLINE", "sshd: root [priv]"), ("_PID", "4242"), ("_UID", "0"),
            ("_GID", "0"), ("_SYSTEMD_UNIT", "ssh.service"), ("_BOOT_ID", "b0"), ("_TRANSPORT", "syslog"),
            ("PRIORITY", "6"), ("SYSLOG_FACILITY", "10"),
            ("MESSAGE", "Accepted password for alice from 198.51.100.7 port 50022 ssh2"),
        ])
        #expect(event.timeNanos == 1_765_000_000_000_000_000)
        #expect(
            String(decoding: event.line, as: UTF8.self)
                == "Accepted password for alice from 198.51.100.7 port 50022 ssh2"
        )
        let expected: [String: String] = [
            "hostname": "ws-7", "program": "sshd", "pid": "4242", "severity": "info", "facility": "authpriv",
            "user": "alice", "src_ip": "198.51.100.7", "src_port": "50022", "outcome": "success", "_UID": "0",
            "_GID": "0", "_COMM": "sshd", "_EXE": "/usr/sbin/sshd", "_CMDLINE": "sshd: root [priv]",
            "_SYSTEMD_UNIT": "ssh.service", "_BOOT_ID": "b0", "_TRANSPORT": "syslog",
        ]
        for (key, value) in expected { #expect(self.value(event, key) == value, "\(key)") }
        #expect(self.value(event, "identity_mismatch") == nil)
    }

    /// `logger -t sshd …` claims sshd; journald saw logger. The event is flagged and says why.
    @Test func anIdentifierThatIsNotTheProcessIsFlagged() {
        let event = self.map([
            ("SYSLOG_IDENTIFIER", "sshd"), ("_COMM", "logger"), ("_EXE", "/usr/bin/logger"), ("_PID", "77"),
            ("MESSAGE", "Accepted password for root from 203.0.113.66 port 2222 ssh2"),
        ])
        #expect(
            self.value(event, "identity_mismatch") == "SYSLOG_IDENTIFIER=sshd but _COMM=logger _EXE=/usr/bin/logger"
        )
        // The message is still parsed as what it claims to be: the investigator sees both.
        #expect(self.value(event, "user") == "root")
        #expect(self.value(event, "pid") == "77")
    }

    /// A client message whose sender exited before journald read its /proc entry has no _COMM: its claim is
    /// unverified and flagged; a kernel message has no sender process at all and is not.
    @Test func anIdentifierNobodyCouldCheckIsFlagged() {
        let quick = self.map([
            ("SYSLOG_IDENTIFIER", "sshd"), ("_TRANSPORT", "syslog"), ("_PID", "77"), ("_UID", "1000"),
            ("MESSAGE", "Accepted password for root from 203.0.113.66 port 2222 ssh2"),
        ])
        #expect(
            self.value(quick, "identity_mismatch")
                == "SYSLOG_IDENTIFIER=sshd but no _COMM: the sender exited before journald could see it"
        )
        let kernel = self.map([("SYSLOG_IDENTIFIER", "kernel"), ("_TRANSPORT", "kernel"), ("MESSAGE", "x")])
        #expect(self.value(kernel, "identity_mismatch") == nil)
    }

    @Test func identifiersThatAgreeAreNotFlagged() {
        let agreeing: [[(String, String)]] = [
            [("SYSLOG_IDENTIFIER", "CRON"), ("_COMM", "cron")],
            // _COMM is the kernel's 15-byte task name.
            [("SYSLOG_IDENTIFIER", "systemd-journald-audit"), ("_COMM", "systemd-journal")],
            [("SYSLOG_IDENTIFIER", "sshd(pam_unix)"), ("_COMM", "sshd")],
            [("SYSLOG_IDENTIFIER", "python-app"), ("_COMM", "python3"), ("_EXE", "/opt/bin/python-app")],
            [("SYSLOG_IDENTIFIER", "kernel")],
        ]
        for fields in agreeing {
            #expect(self.value(self.map(fields + [("MESSAGE", "x")]), "identity_mismatch") == nil, "\(fields)")
        }
    }

    /// Near misses are flagged: a longer or shorter name than the task's, a 15-byte task name the identifier does
    /// not start with; case is ignored in non-ASCII names too.
    @Test func identifiersThatDifferOnlyAtTheEdgesAreFlagged() {
        let differing: [[(String, String)]] = [
            [("SYSLOG_IDENTIFIER", "sshdx"), ("_COMM", "sshd")],
            [("SYSLOG_IDENTIFIER", "cro"), ("_COMM", "cron")],
            [("SYSLOG_IDENTIFIER", "systemd-journa"), ("_COMM", "systemd-journal")],
            [("SYSLOG_IDENTIFIER", "systemd-journey-x"), ("_COMM", "systemd-journal")],
            [("SYSLOG_IDENTIFIER", "Überwacher"), ("_COMM", "überwachen")],
        ]
        for fields in differing {
            #expect(self.value(self.map(fields + [("MESSAGE", "x")]), "identity_mismatch") != nil, "\(fields)")
        }
        let agreeing = self.map([("SYSLOG_IDENTIFIER", "Überwacher"), ("_COMM", "überwacher"), ("MESSAGE", "x")])
        #expect(self.value(agreeing, "identity_mismatch") == nil)
    }

    /// A binary MESSAGE is kept as its bytes; a message over the line limit is cut and says so.
    @Test func binaryAndOverlongMessages() {
        let binary = self.parser.parseJournal(
            JournalEntry(
                realtimeMicros: 5,
                pairs: [("MESSAGE", [0x61, 0x00, 0xff, 0x62]), ("SYSLOG_IDENTIFIER", Array("app".utf8))]
            )
        )
        #expect(binary.line == [0x61, 0x00, 0xff, 0x62])
        #expect(!binary.fields.contains { $0.key == "message" })
        let long = self.map([("MESSAGE", String(repeating: "y", count: WireLimits.maxLineLength + 10))])
        #expect(long.line.count == WireLimits.maxLineLength)
        #expect(self.value(long, "flightlog.truncated") == "MESSAGE")
    }
}

/// Gaps from sequence numbers, entry by entry.
@Suite struct JournalGapTrackerTests {
    private func cursor(_ id: String, _ seqnum: UInt64) -> JournalCursor? {
        JournalCursor("s=\(id);i=\(String(seqnum, radix: 16));b=b0;m=1;t=\(String(1000 + seqnum, radix: 16));x=0")
    }

    @Test func cursorsParse() {
        let parsed = JournalCursor("s=d7b2;i=1f;b=0123;m=3e8;t=662006f527221;x=4c85")
        #expect(parsed?.seqnumID == "d7b2")
        #expect(parsed?.seqnum == 31)
        // The per-entry reader takes the id and number from the C string, sharing the id's string between entries.
        var cache = ""
        let text = "s=d7b284080b55498294ac93e980d49a50;i=2a;b=0123;m=3e8;t=662006f527221;x=4c85"
        let fromC = text.withCString { JournalCursor(cString: $0, idCache: &cache) }
        #expect(fromC?.seqnumID == "d7b284080b55498294ac93e980d49a50")
        #expect(fromC?.seqnum == 42)
        #expect(cache == "d7b284080b55498294ac93e980d49a50")
        #expect("s=abc;x=1".withCString { JournalCursor(cString: $0, idCache: &cache) } == nil)
        #expect("i=1;s=abc".withCString { JournalCursor(cString: $0, idCache: &cache) } == nil)
        #expect(JournalCursor("garbage") == nil)
        #expect(JournalCursor("s=;i=1;b=0;t=1") == nil)
    }

    @Test func aJumpWithoutMatchesIsCounted() {
        var tracker = JournalGapTracker(hasMatches: false)
        #expect(tracker.read(self.cursor("a", 1)) == nil)
        #expect(tracker.read(self.cursor("a", 2)) == nil)
        #expect(tracker.read(self.cursor("a", 7))?.missing == 4)
        // Another sender's numbers are tracked apart: no gap between the two.
        #expect(tracker.read(self.cursor("b", 100)) == nil)
        #expect(tracker.read(self.cursor("a", 8)) == nil)
        #expect(tracker.read(self.cursor("b", 101)) == nil)
    }

    @Test func withMatchesAJumpIsNoGap() {
        var tracker = JournalGapTracker(hasMatches: true)
        #expect(tracker.read(self.cursor("a", 1)) == nil)
        #expect(tracker.read(self.cursor("a", 9)) == nil)
    }

    @Test func resumingAfterAVanishedCommittedEntry() {
        var counted = JournalGapTracker(hasMatches: false)
        counted.resume(after: self.cursor("a", 10))
        let gap = counted.read(self.cursor("a", 15))
        #expect(gap?.missing == 4)
        #expect(gap?.detail == "sequence numbers 11…14 of s=a")

        var nothingLost = JournalGapTracker(hasMatches: false)
        nothingLost.resume(after: self.cursor("a", 10))
        #expect(nothingLost.read(self.cursor("a", 11)) == nil)

        var found = JournalGapTracker(hasMatches: false)
        found.resume(after: self.cursor("a", 10))
        found.committedEntryFound()
        #expect(found.read(self.cursor("a", 11)) == nil)

        var matched = JournalGapTracker(hasMatches: true)
        matched.resume(after: self.cursor("a", 10))
        let unknown = matched.read(self.cursor("a", 15))
        #expect(unknown != nil && unknown?.missing == nil)

        var other = JournalGapTracker(hasMatches: false)
        other.resume(after: self.cursor("a", 10))
        let otherID = other.read(self.cursor("z", 1))
        #expect(otherID != nil && otherID?.missing == nil)
    }
}

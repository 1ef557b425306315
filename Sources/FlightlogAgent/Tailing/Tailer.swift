/// Follows the files named by a set of globs and hands out their lines, exactly once and in order per file,
/// across rotation, truncation and restarts.
///
/// A `Tailer` is synchronous and has a single owner (one actor drives it); ``poll(maxLines:maxBytes:nowNanos:)``
/// never blocks because it only reads what is already in the files. Its parts follow Vector's file source:
/// a scan of the globs (the file server), one ``FileWatcher`` per open file, a fingerprint of each file's first
/// bytes, and a checkpointable ``state``.
///
/// ## Identity
/// A file is its device and inode plus a fingerprint of its first bytes (up to 256, the count is recorded).
/// Following the identity rather than the name is what makes rotation work: a file renamed to another path
/// that matches a glob (`app.log` → `app.log.1` under `app.log*`) keeps its offset and is not read twice.
/// The fingerprint is re-checked when resuming from a saved state, so an inode reused by a new file is read
/// from 0, and while a file grows, so a truncate-and-rewrite that outgrew the old offset is noticed.
///
/// ## Rotation, truncation, deletion
/// - rename and create: the old file is read to its end through the open descriptor before its successor,
///   then closed once the successor has data or the old file is deleted (so lines a writer appends between
///   the rename and reopening its log are still read); ``TailNotice/rotated(path:)`` is emitted.
/// - copytruncate or truncation: a size below what was read restarts the file at 0 with
///   ``TailNotice/truncated(path:oldOffset:newSize:)``. A copy that appears after the truncation and starts
///   with the same bytes continues at the old offset instead of being read again. If a poll falls between the
///   copy and the truncation, the copy is a new file read from 0: duplicates, never loss.
/// - deletion while open: read to the end through the descriptor, then ``TailNotice/vanished(path:)``.
/// - order: a file that took over a rotated file's path is read only after the rotated file reached its end
///   (that link is checkpointed). Files rotated again before the tailer saw them (several rotations between two
///   polls, or while the agent was stopped) are put in order by modification time, then inode number: a
///   heuristic, since the file system does not record the order of renames.
///
/// ## When the agent is not reading (spool full, agent stopped)
/// - A file that rotates away but is still reachable by a glob is found again by identity and read later
///   from its offset, both while running and when resuming from a saved state.
/// - A file deleted (or renamed outside the globs) while the tailer holds it open is read through the open
///   descriptor.
/// - A file that was rotated away out of the globs, or deleted, before the tailer ever opened it (or while
///   the agent was stopped) cannot be read: its unread lines are lost, and that is visible only as a
///   ``TailNotice/vanished(path:)`` for the saved cursor (or not at all for a file never seen).
///
/// ## Lines
/// Lines are the bytes between newlines, without the `"\n"` and otherwise exactly as written. An unterminated
/// last line waits for its newline; once it is longer than ``TailerOptions/maxLineLength`` it is handed out in
/// parts of that size (``TailedLine/isSplitPart``, ``TailedLine/isSplitContinuation``,
/// ``TailNotice/lineSplit(path:length:)``). After a file was rotated away or deleted and read to its end, an
/// unterminated last line is handed out as is if ``TailerOptions/partialLineFlushAfterRotation``.
///
/// Memory is bounded: files are read 64 KiB at a time and only until the poll's budget is used, so at most
/// one line plus one chunk is buffered per open file.
public final class Tailer {
    /// Most leading bytes of a file that its fingerprint covers.
    public static let fingerprintMaxLength = Fingerprint.maxLength

    /// How many bytes one `pread` asks for.
    static let chunkSize = 64 * 1024

    /// A file that was truncated: a copy of it that shows up afterwards continues at `offset`.
    private struct Truncation {
        var fingerprint: Fingerprint
        var offset: UInt64
    }

    private let options: TailerOptions
    private var watchers: [FileWatcher] = []
    /// Cursors from the saved state not yet matched to a file by identity. A cursor stays (and stays in
    /// ``state``) for ``restoreScans`` scans before it is declared vanished: a rotation racing the first scan
    /// (the glob listed the old name, the rename happened before the stat) must not make the tailer forget the
    /// offset of the renamed file and read it again from the start.
    private var restored: [FileCursor]
    private var restoreMisses: [FileIdentity: Int] = [:]
    /// Scans an unmatched saved cursor survives.
    public static let restoreScans = 3
    private let startedWithoutState: Bool
    private var scanned = false
    /// Paths whose file moved away, with that file's identity: a new file there reads after it.
    private var vacated: [String: FileIdentity] = [:]
    private var truncations: [Truncation] = []
    private var unopenable: Set<String> = []
    private var roundRobin = 0
    private var scratch = [UInt8](repeating: 0, count: Tailer.chunkSize)

    /// Creates a tailer, resuming from `state` (a value of ``state`` saved earlier) if given.
    public init(options: TailerOptions, state: TailerState?) {
        self.options = options
        self.restored = state?.files ?? []
        self.startedWithoutState = state == nil
    }

    /// The cursors exactly after the last line returned by ``poll(maxLines:maxBytes:nowNanos:)``: checkpoint
    /// this together with the batch that holds those lines.
    public var state: TailerState {
        var files = self.watchers.map(\.cursor)
        files.append(contentsOf: self.restored)
        return TailerState(files: files)
    }

    /// Reads at most `maxLines` lines and `maxBytes` line bytes across all files (at least one line if any is
    /// ready, however long) and returns them with the lifecycle notices of this poll. Never blocks.
    public func poll(maxLines: Int, maxBytes: Int, nowNanos: Int64) -> (lines: [TailedLine], notices: [TailNotice]) {
        var notices: [TailNotice] = []
        var output = Output(maxLines: maxLines, maxBytes: maxBytes)
        self.scan(&notices)
        guard maxLines > 0 else { return ([], notices) }

        var reachedEnd = Set<FileIdentity>()
        var waiting: [FileWatcher] = []
        let count = self.watchers.count
        let first = count == 0 ? 0 : self.roundRobin % count
        self.roundRobin &+= 1
        let order = (0..<count).map { self.watchers[(first + $0) % count] }
        for watcher in order {
            if output.isFull { break }
            if self.mustWait(watcher, reachedEnd: reachedEnd) {
                waiting.append(watcher)
                continue
            }
            if self.drain(watcher, into: &output, notices: &notices, nowNanos: nowNanos) {
                reachedEnd.insert(watcher.identity)
            }
        }
        // Successors skipped above because their predecessor came later in the order.
        // Each pass unblocks at least one more file of a rotation chain, so the passes are bounded.
        var progress = true
        var passes = 0
        while progress && !output.isFull && passes <= count {
            passes += 1
            progress = false
            for watcher in waiting where !reachedEnd.contains(watcher.identity) {
                if output.isFull { break }
                if self.mustWait(watcher, reachedEnd: reachedEnd) { continue }
                progress = true
                if self.drain(watcher, into: &output, notices: &notices, nowNanos: nowNanos) {
                    reachedEnd.insert(watcher.identity)
                }
            }
            waiting.removeAll { reachedEnd.contains($0.identity) || !$0.isOpen }
        }
        self.watchers.removeAll { !$0.isOpen }
        return (output.lines, notices)
    }

    // MARK: - Reading

    /// The lines of one poll and the budget left.
    private struct Output {
        var lines: [TailedLine] = []
        var bytes = 0
        let maxLines: Int
        let maxBytes: Int

        /// A line did not fit: nothing more is taken in this poll, so files are not read out of order.
        var refused = false

        var isFull: Bool {
            self.refused || self.lines.count >= self.maxLines || (!self.lines.isEmpty && self.bytes >= self.maxBytes)
        }

        mutating func canTake(_ length: Int) -> Bool {
            let fits = self.lines.count < self.maxLines && (self.lines.isEmpty || self.bytes + length <= self.maxBytes)
            if !fits { self.refused = true }
            return fits
        }

        mutating func append(_ line: TailedLine) {
            self.bytes += line.bytes.count
            self.lines.append(line)
        }
    }

    private func mustWait(_ watcher: FileWatcher, reachedEnd: Set<FileIdentity>) -> Bool {
        guard let predecessor = watcher.predecessor else { return false }
        if self.waitsOnItself(watcher) {
            watcher.predecessor = nil
            return false
        }
        let stillOpen = self.watchers.contains { $0.identity == predecessor && $0.isOpen }
        if !stillOpen {
            watcher.predecessor = nil
            return false
        }
        guard reachedEnd.contains(predecessor) else { return true }
        // Once this file had data when its predecessor was drained, the writer has moved over for good.
        if watcher.lastSize > 0 { watcher.predecessor = nil }
        return false
    }

    /// Whether following read-after links from `watcher` comes back to it (never expected; guards against a stall).
    private func waitsOnItself(_ watcher: FileWatcher) -> Bool {
        var next = watcher.predecessor
        for _ in 0...self.watchers.count {
            guard let identity = next else { return false }
            if identity == watcher.identity { return true }
            next = self.watchers.first { $0.identity == identity }?.predecessor
        }
        return true
    }

    /// Hands out the watcher's lines until the budget is used or the file's end is reached; closes a file that
    /// was rotated away or deleted once it is done. True when everything readable was handed out.
    private func drain(
        _ watcher: FileWatcher,
        into output: inout Output,
        notices: inout [TailNotice],
        nowNanos: Int64
    ) -> Bool {
        guard watcher.isOpen else { return true }
        while true {
            while let candidate = watcher.nextLine(maxLineLength: self.options.maxLineLength) {
                guard output.canTake(candidate.length) else { return false }
                self.hand(candidate, of: watcher, into: &output, notices: &notices, nowNanos: nowNanos)
            }
            switch watcher.readMore(scratch: &self.scratch) {
            case .success(0):
                return self.closeIfDone(watcher, into: &output, notices: &notices, nowNanos: nowNanos)
            case .success:
                continue
            case .failure(let error):
                notices.append(.readError(path: watcher.path, message: error.message))
                return false
            }
        }
    }

    private func hand(
        _ candidate: FileWatcher.Candidate,
        of watcher: FileWatcher,
        into output: inout Output,
        notices: inout [TailNotice],
        nowNanos: Int64
    ) {
        let (line, splitTotal) = watcher.take(candidate, nowNanos: nowNanos)
        output.append(line)
        if let splitTotal {
            notices.append(.lineSplit(path: watcher.path, length: splitTotal))
        }
    }

    /// At the end of a file that rotated away or was deleted: flush its partial line and close it, if it is done.
    private func closeIfDone(
        _ watcher: FileWatcher,
        into output: inout Output,
        notices: inout [TailNotice],
        nowNanos: Int64
    ) -> Bool {
        let done: Bool
        switch watcher.status {
        case .live:
            return true
        case .deleted:
            done = true
        case .rotatedAway(let originPath):
            // The writer may append to the renamed file until it reopens its log; keep it until then.
            let successorHasData = (PosixFile.status(path: originPath)?.size ?? 0) > 0
            let unlinked = (PosixFile.status(fd: watcher.fd)?.linkCount ?? 0) == 0
            done = successorHasData || unlinked
        }
        guard done else { return true }
        if let rest = watcher.remainder(), self.options.partialLineFlushAfterRotation {
            guard output.canTake(rest.length) else { return false }
            self.hand(rest, of: watcher, into: &output, notices: &notices, nowNanos: nowNanos)
        }
        if watcher.status == .deleted {
            notices.append(.vanished(path: watcher.path))
        }
        watcher.close()
        return true
    }

    // MARK: - Scanning

    /// Rescans the globs: follows renames, notices truncation and deletion, opens new files.
    private func scan(_ notices: inout [TailNotice]) {
        let firstScan = !self.scanned
        self.scanned = true

        var found: [(path: String, status: PosixFile.Status)] = []
        var byIdentity: [FileIdentity: String] = [:]
        for path in PosixFile.glob(self.options.globs) {
            guard let status = PosixFile.status(path: path), byIdentity[status.identity] == nil else { continue }
            byIdentity[status.identity] = path
            found.append((path, status))
        }
        let sizes = Dictionary(found.map { ($0.status.identity, $0.status.size) }, uniquingKeysWith: { a, _ in a })

        for watcher in self.watchers where watcher.isOpen {
            let size: UInt64
            if let path = byIdentity[watcher.identity] {
                if path != watcher.path {
                    if watcher.status == .live {
                        self.vacated[watcher.path] = watcher.identity
                        notices.append(.rotated(path: watcher.path))
                    }
                    watcher.path = path
                }
                watcher.status = .live
                size = sizes[watcher.identity] ?? 0
            } else {
                guard let status = PosixFile.status(fd: watcher.fd) else {
                    notices.append(.readError(path: watcher.path, message: "fstat failed"))
                    continue
                }
                if status.linkCount == 0 {
                    if watcher.status == .live { self.vacated[watcher.path] = watcher.identity }
                    watcher.status = .deleted
                } else if watcher.status == .live {
                    self.vacated[watcher.path] = watcher.identity
                    watcher.status = .rotatedAway(originPath: watcher.path)
                    notices.append(.rotated(path: watcher.path))
                }
                size = status.size
            }
            self.checkTruncation(watcher, size: size, notices: &notices)
        }

        if !self.restored.isEmpty {
            // Files rotated within the globs while the agent was down: a new file at the old path reads after them.
            for cursor in self.restored {
                if let path = byIdentity[cursor.identity], path != cursor.path {
                    self.vacated[cursor.path] = cursor.identity
                    notices.append(.rotated(path: cursor.path))
                }
            }
        }

        let tracked = Set(self.watchers.map(\.identity))
        let newFiles = found.filter { !tracked.contains($0.status.identity) }
        let readAfter = self.rotationChains(newFiles: newFiles, found: found)
        var open = self.watchers.filter(\.isOpen).count
        for (path, status) in newFiles {
            guard open < self.options.maxOpenFiles else { break }
            let predecessor = readAfter[status.identity]
            if self.startWatching(path: path, readAfter: predecessor, firstScan: firstScan, notices: &notices) {
                open += 1
            }
        }

        if !self.restored.isEmpty {
            var kept: [FileCursor] = []
            for cursor in self.restored {
                let misses = self.restoreMisses[cursor.identity, default: 0] + 1
                if misses >= Self.restoreScans {
                    notices.append(.vanished(path: cursor.path))
                    self.restoreMisses[cursor.identity] = nil
                } else {
                    self.restoreMisses[cursor.identity] = misses
                    kept.append(cursor)
                }
            }
            self.restored = kept
        }
        let live = Set(self.watchers.map(\.identity))
        self.vacated = self.vacated.filter { live.contains($0.value) }
    }

    /// Orders new files of one rotation family (a base path and the names that extend it: `app.log`,
    /// `app.log.2`, `app.log-20261124`): the file that left the base path (or, when resuming, the most recently
    /// modified file of the family from the saved state) first, then new files that were rotated again before
    /// the tailer saw them, by modification time (then inode number), then the new file at the base path. This
    /// order is a heuristic: files rotated several times while the agent was down are ordered by their times.
    /// Returns each new file's predecessor.
    private func rotationChains(
        newFiles: [(path: String, status: PosixFile.Status)],
        found: [(path: String, status: PosixFile.Status)]
    ) -> [FileIdentity: FileIdentity] {
        var readAfter: [FileIdentity: FileIdentity] = [:]
        // Files known from the saved state carry their own order; only never-seen files are chained.
        let known = Set(self.restored.map(\.identity))
        let fresh = newFiles.filter { !known.contains($0.status.identity) }
        var bases = Set(self.vacated.keys)
        for file in fresh where fresh.contains(where: { $0.path != file.path && $0.path.hasPrefix(file.path) }) {
            bases.insert(file.path)
        }
        for path in bases.sorted(by: { $0.count > $1.count }) {
            var previous = self.vacated[path]
            if previous == nil {
                previous =
                    found.filter { known.contains($0.status.identity) && $0.path.hasPrefix(path) }
                    .max { $0.status.modifiedNanos < $1.status.modifiedNanos }?.status.identity
            }
            let family = fresh.filter {
                $0.path.hasPrefix(path) && readAfter[$0.status.identity] == nil && $0.status.identity != previous
            }.sorted {
                // File times are as coarse as the kernel tick: on a tie, lower inode numbers were usually created first.
                ($0.path == path ? 1 : 0, $0.status.modifiedNanos, $0.status.identity.inode)
                    < ($1.path == path ? 1 : 0, $1.status.modifiedNanos, $1.status.identity.inode)
            }
            for file in family {
                if let previous { readAfter[file.status.identity] = previous }
                previous = file.status.identity
            }
            if self.vacated[path] != nil {
                // Nothing at the path yet: whatever appears there reads after the newest of the family.
                self.vacated[path] = family.last?.path == path ? nil : previous
            }
        }
        return readAfter
    }

    /// Restarts a file at 0 if it shrank below what was read, or its first bytes changed; keeps its fingerprint
    /// up to date while it grows towards ``Fingerprint/maxLength`` bytes.
    private func checkTruncation(_ watcher: FileWatcher, size: UInt64, notices: inout [TailNotice]) {
        defer { watcher.lastSize = size }
        var truncated = size < watcher.readOffset
        if !truncated && size != watcher.lastSize {
            let prefix = PosixFile.readBytes(watcher.fd, count: Fingerprint.maxLength, at: 0)
            if watcher.fingerprint.matches(prefix) {
                if prefix.count > watcher.fingerprint.length {
                    watcher.fingerprint = Fingerprint(of: prefix, count: prefix.count)
                }
            } else {
                truncated = true
            }
        }
        guard truncated else { return }
        notices.append(.truncated(path: watcher.path, oldOffset: watcher.offset, newSize: size))
        if watcher.fingerprint.length > 0 {
            self.truncations.append(Truncation(fingerprint: watcher.fingerprint, offset: watcher.offset))
            if self.truncations.count > 16 { self.truncations.removeFirst() }
        }
        watcher.restart(at: 0)
        let prefix = PosixFile.readBytes(watcher.fd, count: Fingerprint.maxLength, at: 0)
        watcher.fingerprint = Fingerprint(of: prefix, count: prefix.count)
    }

    /// Opens a file the tailer does not track yet and decides where to start in it.
    private func startWatching(
        path: String,
        readAfter: FileIdentity?,
        firstScan: Bool,
        notices: inout [TailNotice]
    ) -> Bool {
        let fd: Int32
        switch PosixFile.openForReading(path) {
        case .success(let opened):
            fd = opened
            self.unopenable.remove(path)
        case .failure(let error):
            if self.unopenable.insert(path).inserted {
                notices.append(.readError(path: path, message: error.message))
            }
            return false
        }
        // The path may have been replaced between stat and open: the descriptor is the truth.
        guard let status = PosixFile.status(fd: fd),
            !self.watchers.contains(where: { $0.identity == status.identity && $0.isOpen })
        else {
            PosixFile.close(fd)
            return false
        }
        let prefix = PosixFile.readBytes(fd, count: Fingerprint.maxLength, at: 0)
        var offset: UInt64 = 0
        var inSplitLine = false
        var predecessor: FileIdentity?

        if let index = self.restored.firstIndex(where: { $0.identity == status.identity }) {
            let cursor = self.restored.remove(at: index)
            let saved = Fingerprint(hex: cursor.fingerprint, length: cursor.fingerprintLength)
            if saved.matches(prefix) && cursor.offset <= status.size {
                offset = cursor.offset
                inSplitLine = cursor.inSplitLine
                predecessor = cursor.readAfter
            } else if saved.matches(prefix) || status.size < cursor.offset {
                notices.append(.truncated(path: path, oldOffset: cursor.offset, newSize: status.size))
            }
            // Otherwise: same inode, different first bytes — a new file that reuses the inode, read from 0.
        } else if let index = self.truncations.firstIndex(where: { $0.fingerprint.matches(prefix) }) {
            // A copy made by copytruncate: continue where the truncated original was.
            offset = min(self.truncations.remove(at: index).offset, status.size)
        } else if firstScan && self.startedWithoutState && self.options.startAtEnd {
            offset = self.lastLineBoundary(fd: fd, size: status.size)
        }

        let watcher = FileWatcher(
            path: path,
            identity: status.identity,
            fingerprint: Fingerprint(of: prefix, count: prefix.count),
            fd: fd,
            offset: offset,
            size: status.size,
            inSplitLine: inSplitLine
        )
        if let readAfter, readAfter != status.identity {
            predecessor = readAfter
        }
        watcher.predecessor = predecessor
        self.watchers.append(watcher)
        notices.append(.opened(path: path, fromOffset: offset))
        return true
    }

    /// Just after the last newline before `size` (within one line length), so starting at the end never
    /// starts in the middle of a line.
    private func lastLineBoundary(fd: Int32, size: UInt64) -> UInt64 {
        let span = UInt64(min(UInt64(self.options.maxLineLength), size))
        let tail = PosixFile.readBytes(fd, count: Int(span), at: size - span)
        guard let newline = tail.lastIndex(of: 0x0A) else { return span == size ? 0 : size - span }
        return size - span + UInt64(newline + 1)
    }
}

@available(*, unavailable)
extension Tailer: Sendable {}

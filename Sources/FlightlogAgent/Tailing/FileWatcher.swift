import Glibc

/// One tracked file: its open descriptor, the committed offset, and the bytes read past it that do not
/// form a complete line yet.
///
/// ```
/// file:   |--- handed out ---|--- buffered, not handed out ---|--- not read yet ---|
///         0               offset                          readOffset          file size
/// ```
final class FileWatcher {
    /// Where the file stands relative to the globs.
    enum Status: Equatable {
        /// Reachable under a path that matches a glob.
        case live
        /// Renamed to a path outside the globs; `originPath` is where it lived, now its successor's path.
        case rotatedAway(originPath: String)
        /// Unlinked while we hold it open.
        case deleted
    }

    var path: String
    let identity: FileIdentity
    var fingerprint: Fingerprint
    private(set) var fd: Int32
    /// Just after the last line handed out: what is checkpointed.
    private(set) var offset: UInt64
    var status: Status = .live
    /// A file that must reach its end before this one is read, so lines keep their order across a rotation.
    var predecessor: FileIdentity?
    /// The file size the last scan saw, to notice growth and shrinking.
    var lastSize: UInt64
    /// The bytes before `offset` end inside a split over-long line.
    private(set) var inSplitLine: Bool
    /// Bytes of the current split line handed out so far.
    private var splitLength = 0

    private var buffer: [UInt8] = []
    /// Index in `buffer` of the byte at `offset`.
    private var start = 0
    /// Index in `buffer` from which to look for the next newline (everything before it was searched).
    private var searchFrom = 0

    init(
        path: String,
        identity: FileIdentity,
        fingerprint: Fingerprint,
        fd: Int32,
        offset: UInt64,
        size: UInt64,
        inSplitLine: Bool
    ) {
        self.path = path
        self.identity = identity
        self.fingerprint = fingerprint
        self.fd = fd
        self.offset = offset
        self.lastSize = size
        self.inSplitLine = inSplitLine
    }

    deinit {
        if self.fd >= 0 { PosixFile.close(self.fd) }
    }

    var isOpen: Bool { self.fd >= 0 }

    /// Where the next read continues.
    var readOffset: UInt64 { self.offset + UInt64(self.buffer.count - self.start) }

    /// Bytes read but not handed out.
    var pendingCount: Int { self.buffer.count - self.start }

    var cursor: FileCursor {
        FileCursor(
            path: self.path,
            identity: self.identity,
            fingerprint: self.fingerprint.hex,
            fingerprintLength: self.fingerprint.length,
            offset: self.offset,
            inSplitLine: self.inSplitLine,
            readAfter: self.predecessor
        )
    }

    // MARK: - Lines

    /// A line found in the buffer, not yet consumed.
    struct Candidate {
        var end: Int
        /// Bytes consumed with it: the line plus its newline, if it has one.
        var consumed: Int
        var terminated: Bool
        var length: Int
    }

    /// The next complete line, or the next `maxLineLength` piece of an over-long one; nil if more bytes are needed.
    func nextLine(maxLineLength: Int) -> Candidate? {
        let limit = min(self.buffer.count, self.start + maxLineLength + 1)
        if self.searchFrom < limit {
            let found: Int? = self.buffer.withUnsafeBufferPointer { bytes in
                guard let base = bytes.baseAddress,
                    let hit = memchr(base + self.searchFrom, 0x0A, limit - self.searchFrom)
                else { return nil }
                return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            if let newline = found {
                let length = newline - self.start
                return Candidate(end: newline, consumed: length + 1, terminated: true, length: length)
            }
            self.searchFrom = limit
        }
        if self.buffer.count - self.start > maxLineLength {
            return Candidate(
                end: self.start + maxLineLength,
                consumed: maxLineLength,
                terminated: false,
                length: maxLineLength
            )
        }
        return nil
    }

    /// Hands out `candidate` (from ``nextLine(maxLineLength:)``) and advances the committed offset past it.
    /// Returns the line and, if it ended a split line, that line's total length.
    func take(_ candidate: Candidate, nowNanos: Int64) -> (TailedLine, splitTotal: Int?) {
        let bytes = Array(self.buffer[self.start..<candidate.end])
        let continuation = self.inSplitLine
        let isPart = continuation || !candidate.terminated
        var splitTotal: Int? = nil
        if candidate.terminated {
            if continuation { splitTotal = self.splitLength + candidate.length }
            self.inSplitLine = false
            self.splitLength = 0
        } else {
            self.inSplitLine = true
            self.splitLength += candidate.length
        }
        self.consume(candidate.consumed)
        let line = TailedLine(
            source: self.path,
            bytes: bytes,
            observedNanos: nowNanos,
            isSplitContinuation: continuation,
            isSplitPart: isPart,
            isSplitLast: isPart && candidate.terminated
        )
        return (line, splitTotal)
    }

    /// The unterminated rest of the buffer as a candidate (for flushing a file that will never grow again).
    func remainder() -> Candidate? {
        let length = self.buffer.count - self.start
        guard length > 0 else { return nil }
        return Candidate(end: self.buffer.count, consumed: length, terminated: true, length: length)
    }

    private func consume(_ count: Int) {
        self.start += count
        self.offset += UInt64(count)
        if self.searchFrom < self.start { self.searchFrom = self.start }
        if self.start == self.buffer.count {
            self.buffer.removeAll(keepingCapacity: true)
            self.start = 0
            self.searchFrom = 0
        } else if self.start >= 64 * 1024 && self.start * 2 >= self.buffer.count {
            self.buffer.removeFirst(self.start)
            self.searchFrom -= self.start
            self.start = 0
        }
    }

    // MARK: - Reading

    /// Appends the next bytes of the file to the buffer: how many (0 at end of file) or the error.
    func readMore(scratch: inout [UInt8]) -> Result<Int, PosixError> {
        guard self.fd >= 0 else { return .success(0) }
        let at = self.readOffset
        let result = scratch.withUnsafeMutableBytes { PosixFile.read(self.fd, into: $0, at: at) }
        if case .success(let count) = result, count > 0 {
            self.buffer.append(contentsOf: scratch[0..<count])
        }
        return result
    }

    /// Forgets everything read and restarts at `offset` (after a truncation).
    func restart(at offset: UInt64) {
        self.buffer.removeAll(keepingCapacity: false)
        self.start = 0
        self.searchFrom = 0
        self.offset = offset
        self.inSplitLine = false
        self.splitLength = 0
    }

    func close() {
        if self.fd >= 0 { PosixFile.close(self.fd) }
        self.fd = -1
        self.buffer = []
        self.start = 0
        self.searchFrom = 0
    }
}

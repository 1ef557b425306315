import FlightlogAgent
import FlightlogTestSupport
import Foundation
import Testing

/// Everything one or more polls returned.
struct Drained {
    var lines: [TailedLine] = []
    var notices: [TailNotice] = []
    var texts: [String] { self.lines.map { String(decoding: $0.bytes, as: UTF8.self) } }
}

extension Tailer {
    /// Polls until a poll returns nothing (the tailer is pull-based: no waiting involved).
    func drain(maxLines: Int = 1_000, maxBytes: Int = 1 << 20, now: Int64 = 1) -> Drained {
        var result = Drained()
        for _ in 0..<10_000 {
            let (lines, notices) = self.poll(maxLines: maxLines, maxBytes: maxBytes, nowNanos: now)
            result.lines += lines
            result.notices += notices
            if lines.isEmpty && notices.isEmpty { break }
        }
        return result
    }
}

@Suite struct TailerTests {
    let dir: TempDirectory

    init() throws {
        self.dir = try TempDirectory()
    }

    func tailer(
        _ glob: String = "app.log",
        startAtEnd: Bool = false,
        maxLineLength: Int? = nil,
        state: TailerState? = nil
    ) -> Tailer {
        var options = TailerOptions(globs: [self.dir.file(glob)], startAtEnd: startAtEnd)
        if let maxLineLength { options.maxLineLength = maxLineLength }
        return Tailer(options: options, state: state)
    }

    // MARK: - Discovery

    @Test func firstSeenFileIsReadFromTheBeginning() throws {
        try dir.append("app.log", lines: ["one", "two"])
        let tailer = self.tailer()
        let result = tailer.drain(now: 42)
        #expect(result.texts == ["one", "two"])
        #expect(result.lines.allSatisfy { $0.source == dir.file("app.log") && $0.observedNanos == 42 })
        #expect(result.lines.allSatisfy { !$0.isSplitPart && !$0.isSplitContinuation })
        #expect(result.notices == [.opened(path: dir.file("app.log"), fromOffset: 0)])
        #expect(tailer.state.files.map(\.offset) == [8])
    }

    @Test func startAtEndSkipsExistingLinesButNotLaterOnes() throws {
        try dir.append("app.log", "old 1\nold 2\npart")
        let tailer = self.tailer(startAtEnd: true)
        let first = tailer.drain()
        #expect(first.texts == [])
        #expect(first.notices == [.opened(path: dir.file("app.log"), fromOffset: 12)])
        try dir.append("app.log", "ial\nnew\n")
        #expect(tailer.drain().texts == ["partial", "new"])
    }

    @Test func startAtEndDoesNotApplyWhenResuming() throws {
        try dir.append("app.log", lines: ["a"])
        let state = TailerState(files: [])
        #expect(self.tailer(startAtEnd: true, state: state).drain().texts == ["a"])
    }

    @Test func globIsRescannedForNewFiles() throws {
        let tailer = self.tailer("*.log")
        #expect(tailer.drain().lines.isEmpty)
        try dir.append("a.log", lines: ["a1"])
        #expect(tailer.drain().texts == ["a1"])
        try dir.append("b.log", lines: ["b1", "b2"])
        try dir.append("a.log", lines: ["a2"])
        #expect(Set(tailer.drain().texts) == ["a2", "b1", "b2"])
        try dir.append("ignored.txt", lines: ["x"])
        #expect(tailer.drain().lines.isEmpty)
    }

    // MARK: - Rotation

    @Test(arguments: ["app.log", "app.log*"])
    func rotationByRenameAndCreateLosesNothing(glob: String) throws {
        try dir.append("app.log", lines: ["l1", "l2"])
        let tailer = self.tailer(glob)
        #expect(tailer.drain().texts == ["l1", "l2"])

        let writer = try dir.openForAppend("app.log")
        defer { close(writer) }
        try TempDirectory.writeAll(writer, Array("l3\n".utf8))
        try dir.rename("app.log", "app.log.1")
        // The writer has not reopened yet: these land in the renamed file.
        try TempDirectory.writeAll(writer, Array("l4\nl5-partial".utf8))
        try dir.append("app.log", lines: ["n1", "n2"])

        let result = tailer.drain()
        #expect(result.notices.contains(.rotated(path: dir.file("app.log"))))
        #expect(result.notices.contains(.opened(path: dir.file("app.log"), fromOffset: 0)))
        if glob == "app.log" {
            // Renamed outside the glob: drained, its partial last line flushed, then closed.
            #expect(result.texts == ["l3", "l4", "l5-partial", "n1", "n2"])
            #expect(tailer.state.files.map(\.path) == [dir.file("app.log")])
        } else {
            // Still matched: followed by identity, the partial line waits for its newline.
            #expect(result.texts == ["l3", "l4", "n1", "n2"])
            #expect(Set(tailer.state.files.map(\.path)) == [dir.file("app.log"), dir.file("app.log.1")])
            try TempDirectory.writeAll(writer, Array(" done\n".utf8))
            #expect(tailer.drain().texts == ["l5-partial done"])
        }
        try dir.append("app.log", lines: ["n3"])
        #expect(tailer.drain().texts == ["n3"])
    }

    @Test func renamedFileKeepsItsOffsetAndIsNotReadTwice() throws {
        try dir.append("app.log", lines: ["a", "b"])
        let tailer = self.tailer("app.log*")
        #expect(tailer.drain().texts == ["a", "b"])
        try dir.rename("app.log", "app.log.1")
        try dir.append("app.log", lines: ["c"])
        try dir.rename("app.log.1", "app.log.2")
        let result = tailer.drain()
        #expect(result.texts == ["c"])
        let paths = Set(tailer.state.files.map(\.path))
        #expect(paths == [dir.file("app.log"), dir.file("app.log.2")])
    }

    @Test func renamedAwayFileWaitsForItsWriterUntilTheSuccessorHasData() throws {
        try dir.append("app.log", lines: ["a"])
        let tailer = self.tailer()
        #expect(tailer.drain().texts == ["a"])
        let writer = try dir.openForAppend("app.log")
        defer { close(writer) }
        try dir.rename("app.log", "app.log.old")
        try dir.append("app.log", "")
        #expect(tailer.drain().lines.isEmpty)
        // Written after the poll that saw the rotation, before the writer reopened: still read.
        try TempDirectory.writeAll(writer, Array("late\n".utf8))
        try dir.append("app.log", lines: ["new"])
        #expect(tailer.drain().texts == ["late", "new"])
        #expect(tailer.state.files.count == 1)
    }

    // MARK: - Truncation

    @Test func copytruncateContinuesInTheCopyAndRestartsTheOriginal() throws {
        try dir.append("app.log", lines: ["l1", "l2"])
        let tailer = self.tailer("app.log*")
        #expect(tailer.drain().texts == ["l1", "l2"])
        try dir.append("app.log", lines: ["l3"])
        try dir.copy("app.log", "app.log.1")
        try dir.truncate("app.log")
        try dir.append("app.log", lines: ["n1"])
        let result = tailer.drain()
        #expect(result.notices.contains(.truncated(path: dir.file("app.log"), oldOffset: 6, newSize: 3)))
        #expect(result.notices.contains(.opened(path: dir.file("app.log.1"), fromOffset: 6)))
        #expect(result.texts.sorted() == ["l3", "n1"])
    }

    @Test func truncationRestartsAtZero() throws {
        try dir.append("app.log", lines: ["first line", "second line"])
        let tailer = self.tailer()
        #expect(tailer.drain().texts.count == 2)
        try dir.truncate("app.log")
        try dir.append("app.log", lines: ["x"])
        let result = tailer.drain()
        #expect(result.texts == ["x"])
        #expect(result.notices == [.truncated(path: dir.file("app.log"), oldOffset: 23, newSize: 2)])
    }

    @Test func truncationOutgrownBeforeThePollIsNoticedByFingerprint() throws {
        try dir.append("app.log", lines: ["aaaa"])
        let tailer = self.tailer()
        #expect(tailer.drain().texts == ["aaaa"])
        try dir.overwrite("app.log", "bbbbbbbb\ncccc\n")
        let result = tailer.drain()
        #expect(result.texts == ["bbbbbbbb", "cccc"])
        #expect(result.notices == [.truncated(path: dir.file("app.log"), oldOffset: 5, newSize: 14)])
    }

    // MARK: - Deletion and identity

    @Test func fileDeletedWhileOpenIsReadToItsEnd() throws {
        try dir.append("app.log", lines: ["a"])
        let tailer = self.tailer()
        #expect(tailer.drain().texts == ["a"])
        try dir.append("app.log", lines: ["b", "c"])
        try dir.append("app.log", "unterminated")
        try dir.remove("app.log")
        let result = tailer.drain()
        #expect(result.texts == ["b", "c", "unterminated"])
        #expect(result.notices == [.vanished(path: dir.file("app.log"))])
        #expect(tailer.state.files.isEmpty)
    }

    @Test func partialLineIsDroppedOnDeletionOnlyWhenAskedTo() throws {
        try dir.append("app.log", "a\nunterminated")
        let tailer = Tailer(
            options: TailerOptions(globs: [dir.file("app.log")], partialLineFlushAfterRotation: false),
            state: nil
        )
        #expect(tailer.drain().texts == ["a"])
        try dir.remove("app.log")
        #expect(tailer.drain().texts == [])
    }

    @Test func reusedInodeWithOtherContentIsANewFile() throws {
        try dir.append("app.log", lines: ["old 1", "old 2"])
        let tailer = self.tailer()
        #expect(tailer.drain().texts.count == 2)
        let state = tailer.state
        let oldInode = try #require(dir.inode("app.log"))
        // Same device and inode, different first bytes: what inode reuse after delete looks like.
        try dir.overwrite("app.log", "new 1\nnew 2\nnew 3\n")
        #expect(dir.inode("app.log") == oldInode)
        let resumed = self.tailer(state: state)
        let result = resumed.drain()
        #expect(result.texts == ["new 1", "new 2", "new 3"])
        #expect(result.notices.contains(.opened(path: dir.file("app.log"), fromOffset: 0)))
    }

    @Test func deleteAndRecreateIsReadFromZeroWhateverTheInode() throws {
        try dir.append("app.log", lines: ["old 1"])
        let tailer = self.tailer()
        #expect(tailer.drain().texts == ["old 1"])
        let state = tailer.state
        try dir.remove("app.log")
        try dir.append("app.log", lines: ["fresh", "lines"])
        #expect(self.tailer(state: state).drain().texts == ["fresh", "lines"])
        #expect(tailer.drain().texts == ["fresh", "lines"])
    }

    // MARK: - Line shapes

    @Test func partialLineWaitsForItsNewline() throws {
        try dir.append("app.log", "abc")
        let tailer = self.tailer()
        #expect(tailer.drain().lines.isEmpty)
        #expect(tailer.state.files.first?.offset == 0)
        try dir.append("app.log", "def")
        #expect(tailer.drain().lines.isEmpty)
        try dir.append("app.log", "\nghi")
        #expect(tailer.drain().texts == ["abcdef"])
        #expect(tailer.state.files.first?.offset == 7)
    }

    @Test func overlongLineIsSplitNotDropped() throws {
        let long = (0..<25).map { String($0 % 10) }.joined()
        try dir.append("app.log", long + "\nshort\n")
        let tailer = self.tailer(maxLineLength: 10)
        let result = tailer.drain()
        let expected: [String] = [
            String(long.prefix(10)), String(long.dropFirst(10).prefix(10)), String(long.suffix(5)), "short",
        ]
        #expect(result.texts == expected)
        #expect(result.lines.map(\.isSplitPart) == [true, true, true, false])
        #expect(result.lines.map(\.isSplitContinuation) == [false, true, true, false])
        #expect(result.lines.map(\.isSplitLast) == [false, false, true, false])
        #expect(result.texts.prefix(3).joined() == long)
        #expect(result.notices.contains(.lineSplit(path: dir.file("app.log"), length: 25)))
    }

    @Test func overlongUnterminatedLineIsHandedOutInPartsAsItGrows() throws {
        let tailer = self.tailer(maxLineLength: 10)
        try dir.append("app.log", String(repeating: "x", count: 23))
        let first = tailer.drain()
        #expect(first.texts == [String(repeating: "x", count: 10), String(repeating: "x", count: 10)])
        #expect(tailer.state.files.first?.offset == 20)
        #expect(tailer.state.files.first?.inSplitLine == true)
        // Resuming keeps the continuation flag.
        let resumed = self.tailer(maxLineLength: 10, state: tailer.state)
        try dir.append("app.log", "yy\n")
        let rest = resumed.drain()
        #expect(rest.texts == ["xxxyy"])
        #expect(rest.lines.first?.isSplitContinuation == true)
        #expect(rest.lines.first?.isSplitPart == true)
    }

    @Test func lineOfExactlyMaxLengthIsNotSplit() throws {
        try dir.append("app.log", String(repeating: "z", count: 10) + "\n")
        let result = self.tailer(maxLineLength: 10).drain()
        #expect(result.lines.count == 1)
        #expect(result.lines.first?.isSplitPart == false)
    }

    @Test func bytesArePreservedExactly() throws {
        let bytes: [UInt8] = [0xFF, 0xFE, 0x41, 0xC3, 0x28, 0x00, 0x0D]
        try dir.append("app.log", bytes + [0x0A] + Array("\r\n".utf8))
        let result = self.tailer().drain()
        #expect(result.lines.map(\.bytes) == [bytes, [0x0D]])
    }

    @Test func budgetsAreRespected() throws {
        try dir.append("app.log", lines: (0..<10).map { "line \($0)" })
        let tailer = self.tailer()
        let (lines, _) = tailer.poll(maxLines: 3, maxBytes: 1 << 20, nowNanos: 0)
        #expect(lines.count == 3)
        let (byBytes, _) = tailer.poll(maxLines: 100, maxBytes: 13, nowNanos: 0)
        #expect(byBytes.count == 2)
        let (oneAnyway, _) = tailer.poll(maxLines: 100, maxBytes: 1, nowNanos: 0)
        #expect(oneAnyway.count == 1)
        #expect(tailer.drain().texts == (6..<10).map { "line \($0)" })
    }

    @Test func openFilesAreBoundedAndLaterFilesArePickedUp() throws {
        for name in ["a.log", "b.log", "c.log"] { try dir.append(name, lines: [name]) }
        let tailer = Tailer(options: TailerOptions(globs: [dir.file("*.log")], maxOpenFiles: 2), state: nil)
        #expect(tailer.drain().texts == ["a.log", "b.log"])
        #expect(tailer.state.files.count == 2)
        try dir.remove("a.log")
        let result = tailer.drain()
        #expect(result.texts == ["c.log"])
        #expect(result.notices.contains(.vanished(path: dir.file("a.log"))))
    }

    // MARK: - Checkpoints

    @Test func stateResumesExactlyAfterTheLastReturnedLine() throws {
        try dir.append("app.log", lines: (0..<10).map { "line \($0)" })
        try dir.append("app.log", "partial")
        let tailer = self.tailer()
        let (lines, _) = tailer.poll(maxLines: 4, maxBytes: 1 << 20, nowNanos: 0)
        #expect(lines.count == 4)
        let data = try JSONEncoder().encode(tailer.state)
        let state = try JSONDecoder().decode(TailerState.self, from: data)
        #expect(state == tailer.state)
        let resumed = self.tailer(state: state)
        try dir.append("app.log", "\n")
        let result = resumed.drain()
        let expected: [String] = (4..<10).map { "line \($0)" } + ["partial"]
        #expect(result.texts == expected)
        #expect(result.notices == [.opened(path: dir.file("app.log"), fromOffset: 28)])
    }

    @Test func stateBeforeTheFirstPollIsTheRestoredState() throws {
        try dir.append("app.log", lines: ["a"])
        let first = self.tailer()
        _ = first.drain()
        #expect(self.tailer(state: first.state).state == first.state)
    }

    @Test func resumesAcrossARotationWhileDown() throws {
        try dir.append("app.log", lines: ["l1", "l2", "l3"])
        let tailer = self.tailer("app.log*")
        let (lines, _) = tailer.poll(maxLines: 2, maxBytes: 1 << 20, nowNanos: 0)
        #expect(lines.count == 2)
        let state = tailer.state
        // Agent is down: more lines, rotation, new file.
        try dir.append("app.log", lines: ["l4"])
        try dir.rename("app.log", "app.log.1")
        try dir.append("app.log", lines: ["n1", "n2"])
        let resumed = self.tailer("app.log*", state: state)
        let result = resumed.drain(maxLines: 1)
        #expect(result.texts == ["l3", "l4", "n1", "n2"])
        #expect(result.notices.contains(.rotated(path: dir.file("app.log"))))
        #expect(result.notices.contains(.opened(path: dir.file("app.log.1"), fromOffset: 6)))
    }

    @Test func fileRotatedOutOfReachWhileDownIsReportedVanished() throws {
        try dir.append("app.log", lines: ["l1"])
        let tailer = self.tailer()
        _ = tailer.drain()
        try dir.append("app.log", lines: ["lost"])
        try dir.rename("app.log", "elsewhere")
        try dir.append("app.log", lines: ["n1"])
        let resumed = self.tailer(state: tailer.state)
        let result = resumed.drain()
        #expect(result.texts == ["n1"])
        // The saved cursor is kept for a few scans (a rename may race the first one), then declared vanished.
        var notices = result.notices
        for _ in 0..<Tailer.restoreScans {
            notices += resumed.poll(maxLines: 10, maxBytes: 1 << 20, nowNanos: 1).notices
        }
        #expect(notices.filter { $0 == .vanished(path: dir.file("app.log")) }.count == 1)
        #expect(resumed.state.files.map(\.path) == [dir.file("app.log")])
    }

    @Test func renameRacingTheFirstScanKeepsTheSavedOffset() throws {
        // The saved cursor names app.log; by the first scan its file sits at app.log.1 only on a later scan
        // (simulated: not reachable by the glob at first, reachable afterwards). It must continue, not restart.
        try dir.append("app.log", lines: ["l1", "l2"])
        let tailer = self.tailer("app.log*")
        _ = tailer.drain()
        try dir.append("app.log", lines: ["l3"])
        try dir.rename("app.log", "hidden")
        try dir.append("app.log", lines: ["n1"])
        let resumed = self.tailer("app.log*", state: tailer.state)
        var texts = resumed.drain().texts
        try dir.rename("hidden", "app.log.1")
        texts += resumed.drain().texts
        #expect(texts.sorted() == ["l3", "n1"])
    }

    @Test func oldCheckpointsWithoutNewerKeysStillDecode() throws {
        let json =
            #"{"files":[{"path":"/x","identity":{"device":1,"inode":2},"fingerprint":"ab","fingerprintLength":2,"offset":7}]}"#
        let state = try JSONDecoder().decode(TailerState.self, from: Data(json.utf8))
        #expect(state.files.first?.offset == 7)
        #expect(state.files.first?.inSplitLine == false)
        #expect(state.files.first?.readAfter == nil)
    }
}

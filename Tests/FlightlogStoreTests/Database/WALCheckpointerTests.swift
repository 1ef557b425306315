import FlightlogEvidence
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogStore

/// While `serve` maintains the store, the evidence database's WAL is copied into the database by a connection of its
/// own after each commit (``WALCheckpointer``), not by the writer between two commits; and the WAL still starts over
/// instead of growing.
///
/// What the tests read is SQLite's documented on-disk state (<https://sqlite.org/walformat.html>): the wal-index
/// header in `-shm` (frames in the WAL, `mxFrame`, and how many of them are copied into the database, `nBackfill`)
/// and the checkpoint sequence number in the WAL's header, which SQLite increments each time it starts the WAL over.
@Suite struct WALCheckpointerTests {
    /// What the wal-index says of the WAL (native byte order, written by this machine's SQLite).
    private struct WALState: Equatable {
        var frames: UInt32
        var copied: UInt32
    }

    private static func walState(_ path: String) throws -> WALState {
        let shm = try Data(contentsOf: URL(fileURLWithPath: path + "-shm"))
        func u32(_ offset: Int) -> UInt32 {
            shm[offset..<offset + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        }
        // The first copy of the 48-byte header holds mxFrame at 16; the checkpoint information follows both copies,
        // nBackfill first.
        return WALState(frames: u32(16), copied: u32(96))
    }

    /// The checkpoint sequence number in the WAL file's header (big-endian, at byte 12).
    private static func walSequence(_ path: String) throws -> UInt32 {
        let header = try FileHandle(forReadingFrom: URL(fileURLWithPath: path + "-wal")).readData(ofLength: 16)
        return header[12..<16].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Stores one batch of 20 events per call, chained.
    private struct Sender {
        let store: SQLiteStore
        let agent = TestAgent(name: "wal")
        var agentID: Int64 = 0
        var sequence: UInt64 = 0
        var previous = Bytes32.zero

        init(_ store: SQLiteStore) async throws {
            self.store = store
            self.agentID = try await store.enroll(
                name: self.agent.name,
                publicKeyBase64: self.agent.publicKeyBase64,
                atNanos: 1
            ).id
        }

        mutating func send() async throws {
            self.sequence += 1
            let events = self.agent.events(20, prefix: "wal b\(self.sequence)")
            let batch = try self.agent.batch(sequence: self.sequence, previous: self.previous, events: events)
            self.previous = batch.hash
            let outcomes = try await self.store.ingest([
                IngestItem(agentID: self.agentID, batch: batch, events: events, receivedNanos: 1)
            ])
            #expect(outcomes == [.stored])
        }
    }

    /// Far below the writer's own checkpoint size, a commit stays in the WAL until the checkpointer copies it.
    @Test func theCheckpointerCopiesCommitsOffTheWriter() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path)
        var sender = try await Sender(store)
        try await sender.send()
        // Nothing maintains the store yet: the writer does not checkpoint below its size, and nobody else does.
        let before = try Self.walState(path)
        #expect(before.frames > 0)
        #expect(before.copied == 0)

        let maintaining = Task { try await store.maintainIndexes { _ in } }
        defer { maintaining.cancel() }
        try await sender.send()
        try await eventually {
            let state = try Self.walState(path)
            return state.frames > before.frames && state.copied == state.frames
        }
        #expect(try await store.counts().events == 40)
    }

    /// A commit that begins once the checkpointer has copied the WAL writes it from its start again: the WAL does not
    /// grow while the checkpointer keeps up. (SQLite starts the WAL over only in a transaction that begins with every
    /// frame copied; a checkpointer that never caught up would leave it growing. Past
    /// ``SQLiteStore/walCheckpointBytes`` the writer's own checkpoint does that job.)
    @Test func theWALStartsOverOnceTheCheckpointerHasCaughtUp() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path)
        var sender = try await Sender(store)
        let maintaining = Task { try await store.maintainIndexes { _ in } }
        defer { maintaining.cancel() }

        var sequences: [UInt32] = []
        var frames: [UInt32] = []
        for _ in 0..<5 {
            try await sender.send()
            // Caught up: every frame copied, and no indexer reading an older snapshot of the WAL.
            try await eventually {
                let state = try Self.walState(path)
                let indexed = store.indexers.allSatisfy { $0.progress.lag == 0 }
                return state.frames > 0 && state.copied == state.frames && indexed
            }
            sequences.append(try Self.walSequence(path))
            frames.append(try Self.walState(path).frames)
        }
        // Each commit after the first started the WAL over, so the WAL holds the last commit only (the first also
        // held the enrolment's).
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $1 == $0 + 1 }, "\(sequences)")
        #expect(frames.allSatisfy { $0 <= frames[0] }, "\(frames)")
        #expect(try await store.counts().events == 100)
    }

    /// Once the WAL holds `restartFrames`, the writer waits for a checkpoint of everything before its next ingest
    /// transaction, which then starts the WAL over, even though a write the checkpointer was not told of (an
    /// enrolment) is still in it; below that, it does not wait, and the WAL goes on.
    @Test(arguments: [1, Int.max])
    func theWriterWaitsForACompleteCheckpointOnceTheWALIsLarge(restartFrames: Int) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let store = try SQLiteStore(path: path, fullTextBusyTimeout: 30, walRestartFrames: restartFrames)
        let checkpointer = try #require(store.checkpointer)
        var sender = try await Sender(store)
        // The checkpointer alone: no indexer reading snapshots of the WAL.
        let checkpointing = Task { await checkpointer.run() }
        defer { checkpointing.cancel() }
        try await sender.send()
        try await eventually {
            let state = try Self.walState(path)
            return state.frames > 0 && state.copied == state.frames && checkpointer.framesAtLastCheckpoint > 0
        }
        _ = try await store.enroll(name: "other", publicKeyBase64: TestAgent(name: "other").publicKeyBase64, atNanos: 2)
        let sequence = try Self.walSequence(path)
        let uncopied = try Self.walState(path)
        #expect(uncopied.copied < uncopied.frames)

        try await sender.send()
        if restartFrames == 1 {
            #expect(try Self.walSequence(path) == sequence + 1)
        } else {
            #expect(try Self.walSequence(path) == sequence)
            #expect(try Self.walState(path).frames > uncopied.frames)
        }
        #expect(try await store.counts().events == 40)
    }
}

import FlightlogEvidence
import Foundation
import GRDB
import Synchronization

/// Copies the evidence database's WAL into the database on a connection of its own, after each ingest commit, so
/// that the single writer does not do it between two commits.
///
/// A checkpoint reads every page committed since the last one from the WAL, writes it into the database file and
/// syncs that file. The writer commits serially and, while the full-text indexers keep up, is the stage that
/// limits: a checkpoint in its commit stores nothing meanwhile (~0.7 s of `fdatasync` in a 20 s, 2 M-event
/// ingest). Here a PASSIVE checkpoint runs on another thread, concurrently with the writer's next transaction:
/// SQLite allows that (a checkpoint takes the checkpoint lock, never the write lock, and copies only frames no
/// reader still needs). The measurements are in docs/benchmarks/ingest.md ("WAL checkpoints off the writer").
///
/// **The WAL still starts over.** SQLite rewinds the WAL to its start only in a write transaction that begins with
/// every frame copied, which a checkpointer running alongside the writer's commits rarely leaves it. Two things
/// bound it:
/// - the writer keeps its automatic checkpoint at ``SQLiteStore/walCheckpointBytes``: past that, it checkpoints
///   after its commit (little is left to copy), and its next transaction starts the WAL over. That checkpoint is
///   skipped when it finds this one running (SQLITE_BUSY);
/// - so once the WAL holds `restartFrames` (four times that size, 512 MiB), ``catchUpIfNeeded()`` makes the writer
///   wait, before its next transaction, for one checkpoint that copies everything (nothing is writing then): the WAL
///   then starts over for certain, unless a reader holds an older snapshot of it. Four times rather than two: at
///   two the writer waited every ~200,000 events of a sustained ingest (~2 % slower); at four the writer's own
///   checkpoint does the job before the bound is reached.
///
/// While ``run()`` is not running (a command that writes a few rows, a store opened without `serve`), nothing
/// changes: the writer checkpoints as before.
///
/// Durability does not depend on it: every commit syncs the WAL (`synchronous = FULL`), and a checkpoint syncs the
/// database file before SQLite may rewind the WAL over the frames it copied.
final class WALCheckpointer: Sendable {
    private let queue: DatabaseQueue
    /// How many frames the WAL may hold before the writer waits for a complete checkpoint.
    let restartFrames: Int
    private let commits: AsyncStream<Void>
    private let commitNoted: AsyncStream<Void>.Continuation
    private let state = Mutex(State())

    private struct State {
        var running = false
        /// Frames in the WAL when the last checkpoint ended.
        var frames = 0
    }

    /// Opens a connection of its own to the database at `path` (in WAL mode already). `restartFrames` defaults to
    /// four times the writer's automatic checkpoint size in this database's pages.
    init(path: String, restartFrames: Int? = nil) throws {
        var config = Configuration()
        config.label = "flightlog-checkpoints"
        config.prepareDatabase { db in
            // The checkpoint syncs the database file before SQLite may rewind the WAL over what it copied; with
            // `synchronous = OFF` it would not, and a power cut could lose acknowledged events.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        self.queue = try DatabaseQueue(path: path, configuration: config)
        let pageSize = try self.queue.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } ?? 4_096
        self.restartFrames = restartFrames ?? 4 * SQLiteStore.walCheckpointPages(pageSize: pageSize)
        (self.commits, self.commitNoted) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Frames in the WAL when the last checkpoint here ended (0 before the first).
    var framesAtLastCheckpoint: Int { self.state.withLock { $0.frames } }

    /// Called after an ingest commit: the next checkpoint copies it.
    func noteCommitted() {
        self.commitNoted.yield()
    }

    /// Checkpoints after every noted commit (commits noted while one runs share the next), until the task is
    /// cancelled.
    func run() async {
        self.state.withLock { $0.running = true }
        defer { self.state.withLock { $0.running = false } }
        for await _ in self.commits {
            if Task.isCancelled { return }
            await self.checkpoint()
        }
    }

    /// Called by the writer before a write transaction: while ``run()`` runs and the WAL holds `restartFrames` or
    /// more, waits for a checkpoint of everything, so that the transaction starts the WAL over.
    func catchUpIfNeeded() async {
        let behind = self.state.withLock { $0.running && $0.frames >= self.restartFrames }
        guard behind, let result = await self.checkpoint() else { return }
        // Everything copied: the transaction about to begin starts the WAL over, and the checkpoint after its commit
        // says how large the WAL is then. Until that one ends, the next commit must not wait again.
        if result.checkpointedFrameCount == result.walFrameCount {
            self.state.withLock { $0.frames = 0 }
        }
    }

    /// One PASSIVE checkpoint on this connection (checkpoints here never overlap: the queue runs one at a time).
    ///
    /// One that fails (the writer's own holds the checkpoint lock: SQLITE_BUSY; a full disk) leaves the WAL as it
    /// is; the next one copies it. An interrupted one (``run()`` cancelled) stops between pages, which SQLite
    /// allows at any point.
    @discardableResult
    private func checkpoint() async -> (walFrameCount: Int, checkpointedFrameCount: Int)? {
        guard let result = try? await self.queue.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) else {
            return nil
        }
        self.state.withLock { $0.frames = result.walFrameCount }
        return result
    }
}

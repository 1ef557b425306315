import Dispatch
public import FlightlogEvidence
public import FlightlogSigma
public import FlightlogStore
import Foundation
import Synchronization

/// A PostgreSQL store as the investigator's commands read stores (``EventReading``, synchronous), so that `timeline`,
/// `stats`, `hunt` and `query` run the same code on both stores.
///
/// Each call runs the store's async work in a task and blocks the calling thread until it is done; events stream
/// through a queue of a few chunks, so an output of millions of events holds a few thousand at a time. Call it from a
/// thread outside Swift's cooperative pool (the command line's main thread, a test's own thread): blocking a pool
/// thread could starve the very task it waits for.
public final class PostgresEventReader: EventReading {
    public let store: PostgresStore

    public init(_ store: PostgresStore) {
        self.store = store
    }

    public func forEachEvent(_ query: EventQuery, _ body: (EventRecord) throws -> Bool) throws -> Int {
        var delivery = try FilteredDelivery(query)
        let pipe = ChunkPipe(depth: 4)
        let store = self.store
        let filtered = delivery.filtered
        Task.detached {
            var credits = pipe.credits.makeAsyncIterator()
            do {
                try await store.streamEvents(query, filtered: filtered) { chunk in
                    await pipe.send(chunk, credits: &credits)
                }
                pipe.finish(nil)
            } catch {
                pipe.finish(error)
            }
        }
        // However this ends (the body stops, the limit, an error), the task is stopped and waited for.
        defer { pipe.close() }
        while let chunk = try pipe.receive() {
            guard try delivery.deliver(chunk, to: body) else { break }
        }
        return delivery.seen
    }

    public func forEachEventJSON(
        _ query: EventQuery,
        style: EventJSON.Style,
        times: TimeFormatter,
        _ body: (inout [UInt8]) throws -> Bool
    ) throws -> Int {
        var buffer: [UInt8] = []
        return try self.forEachEvent(query) { event in
            buffer.removeAll(keepingCapacity: true)
            EventJSON.append(event, style: style, times: times, to: &buffer)
            return try body(&buffer)
        }
    }

    public func countEvents(_ query: EventQuery) throws -> Int {
        let store = self.store
        return try Blocking.run { try await store.countEvents(query) }
    }

    public func matchingEventIDs(
        _ rules: [TranslatedCondition],
        _ query: EventQuery,
        maxMatches: Int
    ) throws -> [[Int64]?] {
        let store = self.store
        return try Blocking.run { try await store.matchingEventIDs(rules, query, maxMatches: maxMatches) }
    }

    public func catalogue() throws -> StoreCatalogue {
        let store = self.store
        return try Blocking.run { try await store.catalogue() }
    }

    public func explain(_ query: EventQuery, count: Bool) throws -> QueryExplanation {
        throw StoreError.database("--explain shows SQLite's plan: it does not apply to the PostgreSQL store")
    }

    public func timelineContext(_ query: EventQuery, silenceNanos: Int64?) throws -> TimelineContext {
        let store = self.store
        return try Blocking.run { try await store.timelineContext(query, silenceNanos: silenceNanos) }
    }

    public func stats(
        _ query: EventQuery,
        by key: StatsKey,
        bucketNanos: Int64,
        workHours: WorkHours,
        spikeFactor: Double,
        minimumSpike: Int
    ) throws -> StatsReport {
        let store = self.store
        return try Blocking.run {
            try await store.stats(
                query,
                by: key,
                bucketNanos: bucketNanos,
                workHours: workHours,
                spikeFactor: spikeFactor,
                minimumSpike: minimumSpike
            )
        }
    }

    public func correlate(
        _ rule: SigmaRule,
        in rules: SigmaRuleSet,
        query: EventQuery,
        narrowing: Bool
    ) throws -> [CorrelationHit] {
        // The correlated rules read whole: no SQL narrowing to windows on this store.
        try Correlations.hits(rule, in: rules, query: query, reader: self)
    }
}

/// Runs async work for a synchronous caller, blocking the caller's thread (never one of the cooperative pool's; see
/// ``PostgresEventReader``) until it is done.
public enum Blocking {
    public static func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        // Detached: never on the executor the caller prefers (``onOwnExecutor(_:)``'s thread, which it blocks).
        Task.detached {
            do {
                outcome.set(.success(try await operation()))
            } catch {
                outcome.set(.failure(error))
            }
        }
        return try outcome.wait()
    }

    /// Runs `body` on a thread of its own, outside the cooperative pool, and awaits it: where a synchronous command
    /// that calls ``run(_:)`` (through ``PostgresEventReader``) may block.
    public static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            // The main thread's size: a hunt's rule evaluation recurses through nested conditions.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs async `body` with its code on a thread of its own (a task executor preference), where the synchronous
    /// reads it makes through ``PostgresEventReader`` may block: what `export` does, whose bundle writer is async
    /// and reads events synchronously.
    public static func onOwnExecutor<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(OwnThreadExecutor()) { try await body() }
    }

    private final class Outcome<T: Sendable>: Sendable {
        private let result = Mutex<Result<T, any Error>?>(nil)
        private let done = DispatchSemaphore(value: 0)

        func set(_ result: Result<T, any Error>) {
            self.result.withLock { $0 = result }
            self.done.signal()
        }

        func wait() throws -> T {
            self.done.wait()
            guard let result = self.result.withLock({ $0 }) else {
                throw StoreError.database("a PostgreSQL call ended without a result")
            }
            return try result.get()
        }
    }
}

/// Chunks of events from a producing task to a blocked reader, at most `depth` waiting: the producer awaits a credit
/// before each chunk (without blocking a thread), the reader gives one back for each chunk it takes.
final class ChunkPipe: Sendable {
    private struct State {
        var chunks: [[EventRecord]] = []
        /// Set when the producer is done: nil error for the end of the rows.
        var end: (any Error)?? = nil
        var closed = false
        /// Whether the reader has seen the end (it then never waits again).
        var endSeen = false
    }

    private let state = Mutex(State())
    /// One signal per chunk, and one for the end.
    private let ready = DispatchSemaphore(value: 0)
    let credits: AsyncStream<Void>
    private let creditor: AsyncStream<Void>.Continuation

    init(depth: Int) {
        (self.credits, self.creditor) = AsyncStream<Void>.makeStream()
        for _ in 0..<depth { self.creditor.yield() }
    }

    /// Producer: hands `chunk` over once a credit is free; false when the reader closed the pipe (stop reading).
    func send(_ chunk: [EventRecord], credits: inout AsyncStream<Void>.Iterator) async -> Bool {
        guard await credits.next() != nil else { return false }
        let open = self.state.withLock { state in
            guard !state.closed else { return false }
            state.chunks.append(chunk)
            return true
        }
        if open { self.ready.signal() }
        return open
    }

    /// Producer: no more chunks; `error` if it failed.
    func finish(_ error: (any Error)?) {
        self.state.withLock { $0.end = .some(error) }
        self.ready.signal()
    }

    /// Reader: the next chunk, or nil at the end; throws the producer's error.
    func receive() throws -> [EventRecord]? {
        if self.state.withLock({ $0.endSeen }) { return nil }
        self.ready.wait()
        let (chunk, end) = self.state.withLock { state -> ([EventRecord]?, (any Error)??) in
            if !state.chunks.isEmpty { return (state.chunks.removeFirst(), nil) }
            state.endSeen = true
            return (nil, state.end)
        }
        if let chunk {
            self.creditor.yield()
            return chunk
        }
        if case .some(.some(let error)) = end { throw error }
        return nil
    }

    /// Reader: stops the producer and waits for it to end.
    func close() {
        self.state.withLock { $0.closed = true }
        self.creditor.finish()
        while (try? self.receive()) ?? nil != nil {}
    }
}

/// Runs jobs on a serial dispatch queue of its own: libdispatch gives such a queue a thread even while the cooperative
/// pool's are busy or blocked.
private final class OwnThreadExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "flightlog-blocking-reader")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

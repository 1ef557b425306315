import Dispatch

/// Runs `body` on a thread of its own instead of the concurrency pool, in the same task (so `#expect` and the current
/// test go with it).
///
/// All tests share one process, and on Linux its concurrency pool is libdispatch's default-QoS root queue: one thread
/// a core (two on CI's machines), shared with `DispatchQueue.global()`. A test that computes for seconds without a
/// suspension point keeps one of them, and every other test's tasks (the in-process servers of the session tests
/// among them) queue behind it. In a full run, perf counted ~16 s of pool time in `SigmaDifferentialTests` and ~11 s
/// in the bit-flip loop alone. Long synchronous work in a test (a reference evaluator over every rule, a fuzz loop)
/// goes here; scripts/test.sh also bounds how many tests run at once.
public func offThePool<T>(_ body: () async throws -> T) async rethrows -> T {
    try await withTaskExecutorPreference(OwnThreadExecutor(), operation: body)
}

/// Runs jobs on a serial queue of its own: libdispatch gives such a queue a thread even when the pool is busy.
private final class OwnThreadExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "flightlog-test-work")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

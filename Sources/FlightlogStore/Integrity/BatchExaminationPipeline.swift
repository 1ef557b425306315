import Dispatch

/// Examines a run of batches on the other core while the database thread compares the rows of the run before.
///
/// The batches are split between two workers (`concurrentPerform`); the results keep the batches' order. The
/// database thread waits for them with ``results()`` (a semaphore), so it is the only one that ever reads them.
final class BatchExaminationPipeline: @unchecked Sendable {
    /// Batches examined together: enough to keep both cores busy, few enough to bound memory (each holds its
    /// decoded events, at most `WireLimits.maxEventsPerBatch`).
    static let batchesPerRun = 8

    private let done = DispatchSemaphore(value: 0)
    private var examined: [IntegrityChecker.BatchExamination] = []

    init(
        _ batches: [IntegrityChecker.BatchColumns],
        agents: [Int64: IntegrityChecker.Agent],
        tokenizers: EventTokenizers
    ) {
        DispatchQueue.global().async {
            var slots = [IntegrityChecker.BatchExamination?](repeating: nil, count: batches.count)
            slots.withUnsafeMutableBufferPointer { buffer in
                let output = UncheckedBuffer(buffer: buffer)
                DispatchQueue.concurrentPerform(iterations: batches.count) { index in
                    output.buffer[index] = IntegrityChecker.examine(
                        batches[index],
                        agents: agents,
                        tokenizers: tokenizers
                    )
                }
            }
            self.examined = slots.compactMap { $0 }
            self.done.signal()
        }
    }

    /// Blocks until every batch of the run is examined; the examinations in batch order.
    func results() -> [IntegrityChecker.BatchExamination] {
        self.done.wait()
        return self.examined
    }

    /// Each worker writes only its own indices of the buffer, which outlives `concurrentPerform`.
    private struct UncheckedBuffer: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<IntegrityChecker.BatchExamination?>
    }
}

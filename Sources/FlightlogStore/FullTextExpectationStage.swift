import Dispatch
import FlightlogWire

/// Feeds the full-text check's expectations (one tokenization per authentic event) on its own serial queue, so that
/// tokenizing overlaps the row comparison on the database thread.
///
/// The ``FullTextCheck`` is owned by the queue from ``init(_:)`` until ``finish()`` returns it: nothing else touches
/// it (nor its SQLite tokenizer, which only reads its own state and never the connection) in between. Batches are fed
/// in the pass's order, so its state is exactly what the serial pass built.
final class FullTextExpectationStage: @unchecked Sendable {
    private let queue = DispatchQueue(label: "flightlog.verify.full-text")
    /// Runs queued and not yet tokenized: each holds its decoded events, so the queue is bounded.
    private let room = DispatchSemaphore(value: 4)
    private var fullText: FullTextCheck

    init(_ fullText: FullTextCheck) {
        self.fullText = fullText
    }

    /// Queues the expectations of the checked batches among `examined`: their events' authentic lines, or "not
    /// checkable" for the ids of a batch whose events are not authentic.
    /// Blocks while 4 runs are waiting already.
    func enqueue(_ examined: [IntegrityChecker.BatchExamination]) {
        self.room.wait()
        self.queue.async {
            defer { self.room.signal() }
            for checked in examined {
                let b = checked.columns
                guard b.inScope, b.agentID != nil, let firstEventID = b.firstEventID else { continue }
                for index in 0..<checked.eventCount {
                    let id = firstEventID + Int64(index)
                    if let events = checked.events {
                        self.fullText.expect(id: id, events, events.entries[index])
                    } else {
                        self.fullText.skip(id: id)
                    }
                }
            }
        }
    }

    /// Waits for every queued batch; the check with all expectations.
    func finish() -> FullTextCheck {
        self.queue.sync { self.fullText }
    }
}

import FlightlogWire
import Synchronization

/// The batches this process stored last, as ingest decoded them, for the full-text indexers: they index each
/// event's line and fields, which the rows do not hold (see ``EventContentFunctions``), and taking them from here
/// spares each indexer inflating and decoding every batch again from its stored envelope. An indexer that trails by
/// more than ``budget`` bytes (or one started after a restart) reads the envelopes instead.
final class RecentBatches: Sendable {
    /// ~16 MiB: some 30 catch-up batches of 4,000 events, hundreds of a quiet fleet's; the indexers usually trail the
    /// commit by a transaction or two.
    static let defaultBudget = 16 << 20

    private struct State {
        var layouts: [Int64: EventLayout] = [:]
        /// Batch ids, oldest first.
        var order: [Int64] = []
        var bytes = 0
    }

    let budget: Int
    private let state = Mutex(State())

    init(budget: Int = RecentBatches.defaultBudget) {
        self.budget = budget
    }

    /// Remembers committed batches (id and decoded payload), forgetting the oldest beyond the budget.
    func add(_ batches: [(id: Int64, layout: EventLayout)]) {
        guard !batches.isEmpty else { return }
        self.state.withLock { state in
            for batch in batches where state.layouts.updateValue(batch.layout, forKey: batch.id) == nil {
                state.order.append(batch.id)
                state.bytes += batch.layout.retainedBytes
            }
            var dropped = 0
            while state.bytes > self.budget, dropped < state.order.count - 1 {
                if let layout = state.layouts.removeValue(forKey: state.order[dropped]) {
                    state.bytes -= layout.retainedBytes
                }
                dropped += 1
            }
            state.order.removeFirst(dropped)
        }
    }

    /// The decoded payload of batch `id`, if it is still held.
    func layout(_ id: Int64) -> EventLayout? {
        self.state.withLock { $0.layouts[id] }
    }
}

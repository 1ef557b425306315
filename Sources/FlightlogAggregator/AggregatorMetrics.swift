import NIOConcurrencyHelpers
import NIOCore

/// Running counters of the aggregator: connections, handshakes, batches by outcome, events, bytes.
///
/// Readable while serving through the status file (`flightlog status`).
public final class AggregatorMetrics: Sendable {
    private let counters = NIOLockedValueBox<[String: Int64]>([:])

    public init() {}

    /// Adds `amount` to the counter `name`.
    public func add(_ name: String, _ amount: Int64 = 1) {
        self.counters.withLockedValue { $0[name, default: 0] += amount }
    }

    /// Sets the gauge `name` to `value`.
    public func set(_ name: String, _ value: Int64) {
        self.counters.withLockedValue { $0[name] = value }
    }

    /// A copy of every counter.
    public var snapshot: [String: Int64] {
        self.counters.withLockedValue { $0 }
    }

    /// The value of one counter.
    public subscript(name: String) -> Int64 {
        self.counters.withLockedValue { $0[name] ?? 0 }
    }
}

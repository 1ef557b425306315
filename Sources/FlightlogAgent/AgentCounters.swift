import NIOConcurrencyHelpers

/// The agent's running counters; shipped in heartbeats and written to `status.json`.
public final class AgentCounters: Sendable {
    private let values = NIOLockedValueBox<[String: UInt64]>([:])
    private let texts = NIOLockedValueBox<[String: String]>([:])

    public init() {}

    /// Adds to a counter.
    public func add(_ name: String, _ amount: UInt64 = 1) {
        self.values.withLockedValue { $0[name, default: 0] &+= amount }
    }

    /// Sets a gauge.
    public func set(_ name: String, _ value: UInt64) {
        self.values.withLockedValue { $0[name] = value }
    }

    /// Sets a text value (connection state, last error).
    public func note(_ name: String, _ value: String) {
        self.texts.withLockedValue { $0[name] = value }
    }

    /// A copy of every counter.
    public var snapshot: [String: UInt64] { self.values.withLockedValue { $0 } }

    /// A copy of every text value.
    public var notes: [String: String] { self.texts.withLockedValue { $0 } }

    public subscript(name: String) -> UInt64 { self.values.withLockedValue { $0[name] ?? 0 } }
}

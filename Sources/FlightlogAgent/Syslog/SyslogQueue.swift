import NIOConcurrencyHelpers
import NIOCore

/// The bounded hand-over between the syslog receivers and the collector, which drains it in each step.
///
/// A datagram cannot be refused or acknowledged, so when the queue is full ``offer(_:)`` drops it and counts the
/// drop; the collector ships the count as a `syslog_dropped` event. A TCP connection instead waits in ``push(_:)``
/// until there is room, and while it waits its channel stops reading (backpressure through the socket). The queue
/// is bounded by messages and by bytes; one message is always admitted into an empty queue, whatever its size (it
/// is at most `max_message_bytes`).
public final class SyslogQueue: Sendable {
    /// Default byte bound: 10,000 messages of typical size fit; 16 MiB of memory at worst.
    public static let defaultMaxBytes = 16 << 20

    private struct State {
        var messages = CircularBuffer<SyslogMessage>()
        var bytes = 0
        /// Datagrams dropped since the collector last drained.
        var dropped: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
        var closed = false
        /// Inputs bound but not yet announced by the collector.
        var newSources: [String] = []

        func hasRoom(for length: Int, capacity: Int, maxBytes: Int) -> Bool {
            self.messages.isEmpty || (self.messages.count < capacity && self.bytes + length <= maxBytes)
        }
    }

    let capacity: Int
    let maxBytes: Int
    private let counters: AgentCounters
    private let state = NIOLockedValueBox(State())

    /// A queue of at most `capacity` messages and `maxBytes` bytes.
    public init(capacity: Int, maxBytes: Int = SyslogQueue.defaultMaxBytes, counters: AgentCounters) {
        self.capacity = max(1, capacity)
        self.maxBytes = maxBytes
        self.counters = counters
    }

    /// Adds a datagram if there is room; otherwise drops it and counts the drop. Returns whether it was kept.
    @discardableResult
    func offer(_ message: SyslogMessage) -> Bool {
        let kept = self.state.withLockedValue { state -> Bool in
            guard !state.closed,
                state.hasRoom(for: message.bytes.count, capacity: self.capacity, maxBytes: self.maxBytes)
            else {
                state.dropped += 1
                return false
            }
            state.messages.append(message)
            state.bytes += message.bytes.count
            return true
        }
        self.counters.add(kept ? "syslog_received" : "syslog_dropped")
        return kept
    }

    /// Adds a message from a stream, waiting while the queue is full. Returns without adding it when the queue is
    /// closed or the task is cancelled (the agent is stopping; the sender had no acknowledgement for it).
    func push(_ message: SyslogMessage) async {
        let length = message.bytes.count
        while !Task.isCancelled {
            let waiter: UInt64? = self.state.withLockedValue { state in
                if state.closed { return nil }
                if state.hasRoom(for: length, capacity: self.capacity, maxBytes: self.maxBytes) {
                    state.messages.append(message)
                    state.bytes += length
                    return nil
                }
                state.nextWaiter += 1
                return state.nextWaiter
            }
            guard let waiter else {
                self.counters.add("syslog_received")
                return
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLockedValue { state -> Bool in
                        if state.closed || state.cancelled.contains(waiter)
                            || state.hasRoom(for: length, capacity: self.capacity, maxBytes: self.maxBytes)
                        {
                            return true
                        }
                        state.waiters[waiter] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let continuation = self.state.withLockedValue { state in
                    let continuation = state.waiters.removeValue(forKey: waiter)
                    if continuation == nil { state.cancelled.insert(waiter) }
                    return continuation
                }
                continuation?.resume()
            }
            self.state.withLockedValue { _ = $0.cancelled.remove(waiter) }
        }
    }

    /// Takes up to `maxMessages` messages and about `maxBytes` bytes (at least one message when any waits), with
    /// the count of datagrams dropped since the last call; wakes the streams waiting for room.
    func drain(maxMessages: Int, maxBytes: Int) -> (messages: [SyslogMessage], dropped: UInt64) {
        let (messages, dropped, waiters) = self.state.withLockedValue { state in
            var taken: [SyslogMessage] = []
            var takenBytes = 0
            while taken.count < maxMessages, let first = state.messages.first,
                taken.isEmpty || takenBytes + first.bytes.count <= maxBytes
            {
                taken.append(state.messages.removeFirst())
                takenBytes += first.bytes.count
            }
            state.bytes -= takenBytes
            let dropped = state.dropped
            state.dropped = 0
            var waiters: [CheckedContinuation<Void, Never>] = []
            if !taken.isEmpty {
                waiters = Array(state.waiters.values)
                state.waiters.removeAll()
            }
            return (taken, dropped, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return (messages, dropped)
    }

    /// Messages waiting.
    var count: Int { self.state.withLockedValue { $0.messages.count } }

    /// Stops admitting messages and wakes every waiting stream. What is queued can still be drained.
    func close() {
        let waiters = self.state.withLockedValue { state in
            state.closed = true
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Records an input the receiver bound, for the collector to announce as evidence.
    func announce(_ source: String) {
        self.state.withLockedValue { $0.newSources.append(source) }
    }

    /// The inputs bound since the last call.
    func takeNewSources() -> [String] {
        self.state.withLockedValue { state in
            defer { state.newSources.removeAll() }
            return state.newSources
        }
    }
}

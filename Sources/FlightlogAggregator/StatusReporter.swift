import Foundation
public import ServiceLifecycle

/// Writes the aggregator's counters to a JSON file every few seconds, atomically, so that `flightlog status` can
/// read them while `serve` runs.
public struct StatusReporter: Service {
    private let metrics: AggregatorMetrics
    private let path: String
    private let interval: Duration
    private let startedNanos: Int64
    private let listen: String

    public init(metrics: AggregatorMetrics, path: String, intervalSeconds: Int64, listen: String) {
        self.metrics = metrics
        self.path = path
        self.interval = .seconds(intervalSeconds)
        self.startedNanos = WallClock.nowNanos()
        self.listen = listen
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            self.write(state: "running")
            let interval = self.interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        self.write(state: "stopped")
    }

    private func write(state: String) {
        let document = StatusDocument(
            state: state,
            pid: Int(ProcessInfo.processInfo.processIdentifier),
            listen: self.listen,
            startedNanos: self.startedNanos,
            writtenNanos: WallClock.nowNanos(),
            counters: self.metrics.snapshot
        )
        guard let data = try? JSONEncoder.sorted.encode(document) else { return }
        try? data.write(to: URL(fileURLWithPath: self.path), options: .atomic)
    }
}

/// The content of the status file.
public struct StatusDocument: Codable, Sendable {
    public var state: String
    public var pid: Int
    public var listen: String
    public var startedNanos: Int64
    public var writtenNanos: Int64
    public var counters: [String: Int64]
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }
}

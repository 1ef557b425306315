import FlightlogSystem
import Foundation
public import Logging
import NIOCore
public import ServiceLifecycle

/// Writes the aggregator's counters to a JSON file every few seconds, atomically, so that `flightlog status` can
/// read them while `serve` runs.
public struct StatusReporter: Service {
    private let metrics: AggregatorMetrics
    private let path: String
    private let intervalSeconds: Int64
    private let startedNanos: Int64
    private let listen: String
    private let logger: Logger?

    /// `logger`: where a failure to write the file is reported (at most once per minute).
    public init(
        metrics: AggregatorMetrics,
        path: String,
        intervalSeconds: Int64,
        listen: String,
        logger: Logger? = nil
    ) {
        self.metrics = metrics
        self.path = path
        self.intervalSeconds = intervalSeconds
        self.startedNanos = WallClock.nowNanos()
        self.listen = listen
        self.logger = logger
    }

    public func run() async throws {
        // A full disk refuses the file (an atomic write needs a new one): `flightlog status` then sees it age and
        // says so, and the log says why.
        var failures = LogThrottle(interval: .seconds(60))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            self.write(state: "running", failures: &failures)
            let interval = Duration.seconds(self.intervalSeconds)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        self.write(state: "stopped", failures: &failures)
    }

    private func write(state: String, failures: inout LogThrottle) {
        let document = StatusDocument(
            state: state,
            pid: Int(ProcessInfo.processInfo.processIdentifier),
            listen: self.listen,
            startedNanos: self.startedNanos,
            writtenNanos: WallClock.nowNanos(),
            intervalSeconds: self.intervalSeconds,
            counters: self.metrics.snapshot
        )
        do {
            let data = try JSONEncoder.sorted.encode(document)
            try data.write(to: URL(fileURLWithPath: self.path), options: .atomic)
        } catch {
            if let count = failures.note() {
                self.logger?.warning(
                    "Cannot write the status file; `flightlog status` shows older counters until it can",
                    metadata: ["path": "\(self.path)", "error": "\(error)", "failures": "\(count)"]
                )
            }
        }
    }
}

/// The content of the status file.
public struct StatusDocument: Codable, Sendable {
    public var state: String
    public var pid: Int
    public var listen: String
    public var startedNanos: Int64
    public var writtenNanos: Int64
    /// How often `serve` rewrites the file (absent in files written before it was recorded).
    public var intervalSeconds: Int64?
    public var counters: [String: Int64]

    /// How old the counters may be before `flightlog status` calls them stale: a few missed rewrites.
    public var staleAfterSeconds: Double { max(10, 5 * Double(self.intervalSeconds ?? 2)) }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }
}

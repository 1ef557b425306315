import FlightlogSystem
import Foundation
public import ServiceLifecycle

/// What `flightlog-agent status` shows: written by the running agent to `status.json` in the state directory.
public struct AgentStatus: Codable, Sendable {
    public var state: String
    public var pid: Int32
    public var hostname: String
    public var aggregator: String
    public var epoch: UInt64
    public var nextSequence: UInt64
    public var spoolBatches: Int
    public var spoolBytes: Int
    public var spoolMaxBytes: Int
    public var counters: [String: UInt64]
    public var notes: [String: String]
    public var writtenNanos: Int64

    /// Reads the status file of a state directory.
    public static func read(stateDirectory: String) -> AgentStatus? {
        guard let data = FileManager.default.contents(atPath: stateDirectory + "/status.json") else { return nil }
        return try? JSONDecoder().decode(AgentStatus.self, from: data)
    }
}

/// Rewrites `status.json` every two seconds while the agent runs, and once more when it stops.
public struct AgentStatusWriter: Service {
    let configuration: AgentConfiguration
    let journal: Journal
    let counters: AgentCounters

    public init(configuration: AgentConfiguration, journal: Journal, counters: AgentCounters) {
        self.configuration = configuration
        self.journal = journal
        self.counters = counters
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await self.write(state: "running")
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(2)) }
        }
        await self.write(state: "stopped")
    }

    func write(state: String) async {
        let position = await self.journal.nextBatch
        let spool = await self.journal.spoolStatus
        let status = AgentStatus(
            state: state,
            pid: ProcessInfo.processInfo.processIdentifier,
            hostname: self.configuration.hostname,
            aggregator: self.configuration.aggregators.map(\.description).joined(separator: ", "),
            epoch: position.epoch,
            nextSequence: position.sequence,
            spoolBatches: spool.batches,
            spoolBytes: spool.bytes,
            spoolMaxBytes: self.configuration.spoolMaxBytes,
            counters: self.counters.snapshot,
            notes: self.counters.notes,
            writtenNanos: WallClock.nowNanos()
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? encoder.encode(status) else { return }
        try? data.write(to: URL(fileURLWithPath: self.journal.directory + "/status.json"), options: .atomic)
    }
}

import Crypto
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Logging
import Testing

@testable import FlightlogAgent

@Suite struct CollectorTests {
    let dir: TempDirectory

    init() throws {
        self.dir = try TempDirectory()
    }

    private func collector(spoolCap: Int) async throws -> (Collector, Journal, AgentCounters) {
        let configuration = AgentConfiguration(
            keyPath: dir.file("key"),
            stateDirectory: dir.file("state"),
            watch: [dir.file("app.log")],
            hostname: "ws-test",
            insecurePlaintext: true,
            flushIntervalMilliseconds: 10,
            timeZone: "UTC"
        )
        let journal = try Journal(directory: configuration.stateDirectory, maxSpoolBytes: spoolCap, nowNanos: 1)
        let counters = AgentCounters()
        var logger = Logger(label: "test.collector")
        logger.logLevel = .critical
        let collector = await Collector(
            configuration: configuration,
            journal: journal,
            signingKey: Curve25519.Signing.PrivateKey(),
            counters: counters,
            logger: logger
        )
        return (collector, journal, counters)
    }

    /// When the spool is at its cap the collector reads nothing (the lines wait in their file and the offsets do not
    /// move), counts the pause, and once acknowledgements free space it reads on and ships a `spool_full` event.
    @Test func fullSpoolPausesReadingAndIsRecorded() async throws {
        try dir.append("app.log", lines: ["first line"])
        // A one-byte cap: any committed batch fills the spool.
        let (collector, journal, counters) = try await self.collector(spoolCap: 1)
        var rounds = 0
        while await journal.spoolStatus.batches == 0, rounds < 100 {
            _ = try await collector.step(draining: true)
            rounds += 1
        }
        #expect(await journal.isFull)
        let committed = await journal.nextBatch
        try dir.append("app.log", lines: ["second line", "third line"])
        for _ in 0..<5 { _ = try await collector.step(draining: true) }
        // Nothing was read or committed while full.
        #expect(await journal.nextBatch.sequence == committed.sequence)
        #expect(await journal.nextBatch.tailer == committed.tailer)
        #expect(counters["spool_full"] == 1)

        // The aggregator acknowledges everything: reading resumes and the pause is itself evidence.
        await journal.acknowledge(through: committed.sequence - 1)
        _ = try await collector.step(draining: true)
        let sequence = await journal.nextBatch.sequence - 1
        let batch = try SignedBatch(bytes: try await journal.envelope(sequence))
        let lines = try batch.decodeEvents().map { String(decoding: $0.line, as: UTF8.self) }
        #expect(lines.contains("second line"))
        #expect(lines.contains("third line"))
        #expect(lines.contains { $0.hasPrefix("flightlog-agent spool was full") })
    }
}

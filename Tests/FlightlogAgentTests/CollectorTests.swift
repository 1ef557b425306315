import Crypto
import FlightlogSystem
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Logging
import Synchronization
import Testing

@testable import FlightlogAgent

@Suite struct CollectorTests {
    let dir: TempDirectory

    init() throws {
        self.dir = try TempDirectory()
    }

    private func collector(
        spoolCap: Int,
        flushIntervalMilliseconds: Int = 10,
        wallClock: @escaping @Sendable () -> Int64 = { WallClock.nowNanos() }
    ) async throws -> (Collector, Journal, AgentCounters) {
        let configuration = AgentConfiguration(
            keyPath: dir.file("key"),
            stateDirectory: dir.file("state"),
            watch: [dir.file("app.log")],
            hostname: "ws-test",
            insecurePlaintext: true,
            flushIntervalMilliseconds: flushIntervalMilliseconds,
            timeZone: "UTC"
        )
        let journal = try Journal(directory: configuration.stateDirectory, maxSpoolBytes: spoolCap, nowNanos: 1)
        let counters = AgentCounters()
        var logger = Logger(label: "test.collector")
        logger.logLevel = .critical
        let collector = try await Collector(
            configuration: configuration,
            journal: journal,
            signingKey: Curve25519.Signing.PrivateKey(),
            counters: counters,
            logger: logger,
            wallClock: wallClock
        )
        return (collector, journal, counters)
    }

    /// A wall clock stepped back by three hours while lines wait for their batch does not hold the batch back for three
    /// hours: the flush interval runs on the monotonic clock, and the events keep the times the wall clock gave.
    @Test func aWallClockSteppedBackDoesNotHoldTheBatch() async throws {
        let offset = Atomic<Int64>(0)
        try dir.append("app.log", lines: ["read with the start event"])
        let (collector, journal, _) = try await self.collector(spoolCap: 1 << 20, flushIntervalMilliseconds: 200) {
            WallClock.nowNanos() &+ offset.load(ordering: .relaxed)
        }
        _ = try await collector.step(draining: true)
        let first = await journal.nextBatch.sequence
        try dir.append("app.log", lines: ["read before the step"])
        var rounds = 0
        while await collector.pending.isEmpty, rounds < 100 {
            _ = try await collector.step()
            rounds += 1
        }
        #expect(await collector.pending.eventCount == 1)
        #expect(await journal.nextBatch.sequence == first)
        offset.store(-3 * 3600 * 1_000_000_000, ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(250))
        _ = try await collector.step()
        #expect(await journal.nextBatch.sequence == first + 1, "the batch waits for the wall clock to catch up")
        let lines = try await journal.committedEvents().map { String(decoding: $0.line, as: UTF8.self) }
        #expect(lines.contains("read before the step"))
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

    private func committedEvents(_ journal: Journal) async throws -> [Event] {
        try await journal.committedEvents()
    }

    /// auditd's records read from a real file: an exec whose CWD record is not written yet (a half event at the
    /// file's end) gets its process-creation view when the CWD comes; after a restart between its records, the rest
    /// get none, and every record is still an event. Records of Filebeat's RHEL 7 host (serials 689 and 513).
    @Test func auditRecordsAreLinkedAcrossPollsAndNotAcrossRestarts() async throws {
        let raw = try Data(
            contentsOf: RepositoryFiles.fixtures.appendingPathComponent("auditd/filebeat-audit-rhel7.log")
        )
        let lines = raw.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        let curl = lines.filter { $0.contains(":689):") }
        let grep = lines.filter { $0.contains(":513):") }
        #expect(curl.count == 5 && grep.count >= 3)
        func views(_ events: [Event]) -> [Event] {
            events.filter { $0.fields.contains { $0.key == "audit_view" } }
        }
        do {
            let (collector, journal, _) = try await self.collector(spoolCap: 1 << 20)
            try dir.append("app.log", lines: Array(curl.prefix(2)))
            _ = try await collector.step(draining: true)
            #expect(views(try await self.committedEvents(journal)).isEmpty)
            try dir.append("app.log", lines: Array(curl.dropFirst(2)) + Array(grep.prefix(2)))
            _ = try await collector.step(draining: true)
            let linked = views(try await self.committedEvents(journal))
            #expect(linked.count == 1)
            let view = try #require(linked.first)
            #expect(String(decoding: view.line, as: UTF8.self) == curl[2])
            #expect(view.fields.contains(Event.Field("command", "curl elastic.co")))
            #expect(view.fields.contains(Event.Field("exe", "/usr/bin/curl")))
        }
        // Restarted: the journal resumes after serial 513's SYSCALL and EXECVE; its CWD and PATHs get no view.
        let (collector, journal, _) = try await self.collector(spoolCap: 1 << 20)
        try dir.append("app.log", lines: Array(grep.dropFirst(2)))
        _ = try await collector.step(draining: true)
        let events = try await self.committedEvents(journal)
        #expect(views(events).count == 1)
        let audit = events.filter { $0.fields.first?.key == "audit_type" }
        #expect(audit.count == curl.count + grep.count)
    }
}

extension Journal {
    /// The events of every committed batch still in the spool, in order.
    func committedEvents() async throws -> [Event] {
        var events: [Event] = []
        let next = self.nextBatch.sequence
        for sequence in 0..<next {
            guard let bytes = try? self.envelope(sequence) else { continue }
            events += try SignedBatch(bytes: bytes).decodeEvents()
        }
        return events
    }
}

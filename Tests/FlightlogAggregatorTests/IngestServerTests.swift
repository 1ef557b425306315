import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Logging
import NIOCore
import Testing

@testable import FlightlogStore

@Suite("Ingest server over real TCP and SQLite")
struct IngestServerTests {
    private func enrolled(_ store: SQLiteStore, _ agent: TestAgent) async throws {
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
    }

    @Test func aPortInUseIsReportedPlainly() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            var configuration = AggregatorConfiguration.loopback()
            configuration.port = port
            await #expect(throws: AggregatorError.cannotListen("127.0.0.1:\(port): Address already in use")) {
                _ = try await IngestServer(
                    configuration: configuration,
                    store: store,
                    metrics: AggregatorMetrics(),
                    logger: Logger(label: "test.second")
                )
            }
        }
    }

    /// Small batches from many connections share a transaction: a fleet of quiet workstations sends batches of a
    /// few events, and a commit's fixed costs (the fsync, the index pages rewritten) were paid per 64 batches.
    @Test func smallBatchesFromManyAgentsShareACommit() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let agents = (0..<20).map { TestAgent(name: "ws-small-\($0)") }
        let perAgent = 30
        // Signed before any connection opens, and no heartbeats expected: in a full test run on two cores, signing
        // the chains between opening connections took long enough that the server closed the first ones for 45 s of
        // silence, and their batches never arrived.
        let chains = try agents.map { try $0.chain(perAgent) }
        var configuration = AggregatorConfiguration.loopback()
        configuration.heartbeatIntervalSeconds = 600
        try await withServer(database: path, configuration: configuration) { port, store, metrics in
            for agent in agents { try await self.enrolled(store, agent) }
            var connections: [(TestConnection, [SignedBatch])] = []
            for (agent, chain) in zip(agents, chains) {
                connections.append((try await agent.open(port: port).0, chain))
            }
            // The database is held while every batch arrives, so that all of them are waiting at once.
            let blocker = try await WriteLockHolder(path)
            for (connection, batches) in connections {
                for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            }
            let total = agents.count * perAgent
            try await eventually {
                metrics["commit_queue_batches"] + metrics["commit_batches_in_transaction"] == Int64(total)
            }
            let held = metrics["commit_batches_in_transaction"]
            try await blocker.release()
            for (connection, batches) in connections {
                try await expectStored(connection, batches)
                await connection.close()
            }
            // The transaction that waited on the lock, then one for all the rest (64 per commit took 10 more).
            #expect(held < Int64(total))
            #expect(metrics["commits"] == 2)
            #expect(try await store.counts().events == total * 5)
        }
    }

    /// Connections waiting for a slow database hold their compressed frames, not decoded batches: memory for the
    /// decoded events is reserved before the payload is inflated. (Decoding first, 1,000 connections with a 1 MB batch
    /// each took the process from 2.0 to 9.7 GB.)
    @Test func connectionsWaitForMemoryBeforeDecoding() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let agents = (0..<10).map { TestAgent(name: "ws-memory-\($0)") }
        var configuration = AggregatorConfiguration.loopback()
        configuration.maxPendingBytes = 1  // one batch reserved fills the budget
        // The test's connections send no heartbeats: on a loaded machine the default 45 s of silence closed one.
        configuration.heartbeatIntervalSeconds = 600
        try await withServer(database: path, configuration: configuration) { port, store, metrics in
            for agent in agents { try await self.enrolled(store, agent) }
            var connections: [(TestConnection, [SignedBatch])] = []
            for agent in agents { connections.append((try await agent.open(port: port).0, try agent.chain(2))) }
            let blocker = try await WriteLockHolder(path)
            for (connection, batches) in connections {
                for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            }
            // The first batch took the budget and waits for the database; every connection's next batch waits for
            // memory, still compressed.
            try await eventually(seconds: 300) { metrics["connections_waiting_for_memory"] == Int64(agents.count) }
            #expect(metrics["batches_decoded"] == 1)
            try await blocker.release()
            for (connection, batches) in connections {
                try await expectStored(connection, batches)
                await connection.close()
            }
            #expect(metrics["batches_decoded"] == Int64(2 * agents.count))
            #expect(metrics["connections_waiting_for_memory"] == 0)
        }
    }

    /// Revoking a key cuts off its live session: the next batch is refused with `revokedAgent` and recorded, not
    /// stored (before, a session opened before the revocation kept storing batches, which `verify` then reported
    /// as received after the revocation).
    @Test func revocationCutsOffALiveSession() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-compromised")
        try await withServer(database: dir.file("db.sqlite")) { port, store, metrics in
            try await self.enrolled(store, agent)
            let (connection, _) = try await agent.open(port: port)
            let batches = try agent.chain(2)
            try await connection.send(.batch(ByteBuffer(bytes: batches[0].bytes)))
            try await expectStored(connection, [batches[0]])

            try await store.revoke(name: agent.name, atNanos: Int64(Date().timeIntervalSince1970 * 1e9))
            try await connection.send(.batch(ByteBuffer(bytes: batches[1].bytes)))
            let reply = try await connection.receiveSkippingHeartbeats()
            #expect(errorCode(reply) == .revokedAgent)
            try await connection.waitClosed()

            #expect(try await store.counts().batches == 1)
            #expect(metrics["batches_rejected.revokedAgent"] == 1)
            let findings = try await store.findings()
            #expect(findings.contains { $0.kind == .rejectedBatch && $0.fromSequence == 2 })
        }
    }

    /// An agent that goes silent after the handshake (no frame for 3 × heartbeat, while the server is reading) is
    /// told `timeout` and disconnected; the server's own heartbeats do not keep it alive.
    @Test func aSilentAgentIsTimedOut() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-silent")
        var configuration = AggregatorConfiguration.loopback()
        configuration.heartbeatIntervalSeconds = 1
        try await withServer(database: dir.file("db.sqlite"), configuration: configuration) { port, store, metrics in
            try await self.enrolled(store, agent)
            let (connection, _) = try await agent.open(port: port)
            #expect(errorCode(try await connection.receiveSkippingHeartbeats()) == .timeout)
            try await connection.waitClosed()
            #expect(metrics["sessions_timed_out"] == 1)
            #expect(metrics["idle_while_paused"] == 0)
        }
    }

    /// A slow database stops the server reading (backpressure). The agent's silence in that time is the server's
    /// doing: the idle timeout (3 × heartbeat) must not cut the agent off, and everything is acked once the
    /// database moves again.
    @Test func aSlowDatabasePausesReadingWithoutTimingOutTheAgent() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-paused")
        let path = dir.file("db.sqlite")
        var configuration = AggregatorConfiguration.loopback()
        // Silence for 9 s ends the session once the server reads again.
        configuration.heartbeatIntervalSeconds = 3
        configuration.maxPendingBytes = 1  // one batch waiting for the database pauses every reader
        try await withServer(database: path, configuration: configuration) { port, store, metrics in
            try await self.enrolled(store, agent)
            let (connection, _) = try await agent.open(port: port)
            // Another connection holds the write lock: nothing commits, the session stops taking frames, and the
            // async channel stops reading the socket.
            let blocker = try await WriteLockHolder(path)
            // Four batches: each commits alone (one batch of memory), so each waits for a fsync once reading resumes.
            let batches = try agent.chain(4)
            for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            // Two idle periods pass while reading is paused; before, the first one ended the session.
            try await eventually { metrics["idle_while_paused"] >= 2 }
            try await blocker.release()
            // As a real agent does, it sends a heartbeat every second while it waits for its ACKs: then how long the
            // commits take on a busy machine does not matter, only that the session was not cut off meanwhile.
            let heartbeats = Task {
                while !Task.isCancelled {
                    try? await connection.send(.heartbeat(Heartbeat(timeNanos: 1_700_000_000_000_000_000)))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            try await expectStored(connection, batches)
            heartbeats.cancel()
            _ = await heartbeats.value
            #expect(metrics["sessions_timed_out"] == 0)
            // Reading again, the server times out an agent that stays silent, as ever.
            #expect(errorCode(try await connection.receiveSkippingHeartbeats()) == .timeout)
            #expect(metrics["sessions_timed_out"] == 1)
        }
    }

    @Test func acceptsEnrolledAgentAndAcksAfterStoring() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-1")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await self.enrolled(store, agent)
            let (connection, welcome) = try await agent.open(port: port)
            #expect(welcome.lastSequence == 0)
            #expect(welcome.lastBatchHash == .zero)
            #expect(welcome.window == 64)
            let batches = try agent.chain(3)
            for batch in batches { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            try await expectStored(connection, batches)
            // Acked means committed: a second, independent connection to the file sees it.
            let reader = try SQLiteStore(readOnlyPath: dir.file("db.sqlite"))
            let counts = try await reader.counts()
            #expect(counts.batches == 3)
            #expect(counts.events == 15)
            // The full-text index trails the commit, on its own connection; the running server catches up.
            try await eventually { try await reader.counts().fullText == 15 }
            try await connection.send(.goodbye(Goodbye(message: "bye")))
            #expect(try await connection.receiveSkippingHeartbeats() == .goodbye(Goodbye(message: "closing")))
            await connection.close()
        }
    }

    @Test func resentBatchIsAckedAgainAndStoredOnce() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-dup")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await self.enrolled(store, agent)
            let batches = try agent.chain(2)
            let (first, _) = try await agent.open(port: port)
            for batch in batches { try await first.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            for _ in batches { _ = try await first.receiveSkippingHeartbeats() }
            await first.close()

            let (second, welcome) = try await agent.open(port: port)
            #expect(welcome.lastSequence == 2)
            #expect(welcome.lastBatchHash == batches[1].hash)
            try await second.send(.batch(ByteBuffer(bytes: batches[1].bytes)))
            let frame = try await second.receiveSkippingHeartbeats()
            #expect(frame == .ack(Ack(epoch: 1, sequence: 2, batchHash: batches[1].hash, status: .duplicate)))
            let counts = try await store.counts()
            #expect(counts.batches == 2)
            #expect(counts.events == 10)
            await second.close()
        }
    }

    @Test func equivocationIsRefusedAndRecorded() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-eq")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await self.enrolled(store, agent)
            let original = try agent.batch(sequence: 1, previous: .zero, events: agent.events(2, prefix: "original"))
            let forged = try agent.batch(sequence: 1, previous: .zero, events: agent.events(2, prefix: "rewritten"))
            let (connection, _) = try await agent.open(port: port)
            try await connection.send(.batch(ByteBuffer(bytes: original.bytes)))
            _ = try await connection.receiveSkippingHeartbeats()
            try await connection.send(.batch(ByteBuffer(bytes: forged.bytes)))
            let frame = try await connection.receiveSkippingHeartbeats()
            guard case .error(let error) = frame else {
                Issue.record("expected ERROR, got \(String(describing: frame))")
                return
            }
            #expect(error.code == .equivocation)
            #expect(error.sequence == 1)
            try await connection.waitClosed()
            let findings = try await store.findings()
            #expect(findings.map(\.kind) == [.equivocation])
            #expect(findings.first?.batchHash == forged.hash)
            #expect(findings.first?.otherHash == original.hash)
            #expect(
                try await store.lines(agentName: agent.name).map { String(decoding: $0, as: UTF8.self) }.allSatisfy {
                    $0.hasPrefix("original")
                }
            )
        }
    }

    @Test func gapIsStoredAndRecorded() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-gap")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await self.enrolled(store, agent)
            let batches = try agent.chain(5)
            let (connection, _) = try await agent.open(port: port)
            for index in [0, 1, 4] { try await connection.send(.batch(ByteBuffer(bytes: batches[index].bytes))) }
            for _ in 0..<3 {
                guard case .ack(let ack) = try await connection.receiveSkippingHeartbeats() else {
                    Issue.record("expected ACK")
                    return
                }
                #expect(ack.status == .stored)
            }
            let findings = try await store.findings()
            #expect(findings.count == 1)
            #expect(findings.first?.kind == .gap)
            #expect(findings.first?.fromSequence == 3)
            #expect(findings.first?.toSequence == 4)
            let summary = try #require(try await store.agentSummaries().first)
            #expect(summary.gaps == 1)
            #expect(summary.lastSequence == 5)
            await connection.close()
        }
    }

    @Test func brokenLinkIsRefused() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-broken")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await self.enrolled(store, agent)
            let first = try agent.batch(sequence: 1, previous: .zero, events: agent.events(1, prefix: "a"))
            let wrongLink = try agent.batch(
                sequence: 2,
                previous: Bytes32(hex: String(repeating: "ab", count: 32)) ?? .zero,
                events: agent.events(1, prefix: "b")
            )
            let (connection, _) = try await agent.open(port: port)
            try await connection.send(.batch(ByteBuffer(bytes: first.bytes)))
            _ = try await connection.receiveSkippingHeartbeats()
            try await connection.send(.batch(ByteBuffer(bytes: wrongLink.bytes)))
            #expect(errorCode(try await connection.receiveSkippingHeartbeats()) == .chainBroken)
            #expect(try await store.findings().map(\.kind) == [.chainBroken])
            #expect(try await store.counts().batches == 1)
        }
    }

    @Test func newEpochIsAcceptedAndRecordedVisibly() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        var agent = TestAgent(name: "ws-epoch")
        try await withServer(database: dir.file("db.sqlite")) { [agent] port, store, _ in
            try await self.enrolled(store, agent)
            let (connection, _) = try await agent.open(port: port)
            for batch in try agent.chain(2) { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            _ = try await connection.receiveSkippingHeartbeats()
            _ = try await connection.receiveSkippingHeartbeats()
            await connection.close()
        }
        agent.epoch = 99
        try await withServer(database: dir.file("db.sqlite")) { [agent] port, store, _ in
            let (connection, welcome) = try await agent.open(port: port)
            #expect(welcome.epoch == 99)
            #expect(welcome.lastSequence == 0)
            for batch in try agent.chain(1, tag: "after-wipe") {
                try await connection.send(.batch(ByteBuffer(bytes: batch.bytes)))
            }
            guard case .ack(let ack) = try await connection.receiveSkippingHeartbeats() else {
                Issue.record("expected ACK")
                return
            }
            #expect(ack.epoch == 99)
            let findings = try await store.findings()
            #expect(findings.map(\.kind) == [.newEpoch])
            #expect(findings.first?.epoch == 99)
            let summary = try #require(try await store.agentSummaries().first)
            #expect(summary.epochs == 2)
            #expect(summary.currentEpoch == 99)
            await connection.close()
        }
    }

    @Test func restartedServerResumesFromStoredHead() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-restart")
        let batches = try agent.chain(4)
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await self.enrolled(store, agent)
            let (connection, _) = try await agent.open(port: port)
            for batch in batches.prefix(3) { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            for _ in 0..<3 { _ = try await connection.receiveSkippingHeartbeats() }
            await connection.close()
        }
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            let (connection, welcome) = try await agent.open(port: port)
            #expect(welcome.lastSequence == 3)
            #expect(welcome.lastBatchHash == batches[2].hash)
            try await connection.send(.batch(ByteBuffer(bytes: batches[3].bytes)))
            #expect(
                try await connection.receiveSkippingHeartbeats()
                    == .ack(Ack(epoch: 1, sequence: 4, batchHash: batches[3].hash, status: .stored))
            )
            #expect(try await store.counts().batches == 4)
            #expect(try await store.findings().isEmpty)
            await connection.close()
        }
    }

    @Test func fiftyConcurrentAgentsAreStoredExactly() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agents = (0..<50).map { TestAgent(name: "ws-\($0)") }
        let batchesPerAgent = 8
        let eventsPerBatch = 7
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            for agent in agents { try await self.enrolled(store, agent) }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for agent in agents {
                    group.addTask {
                        let batches = try agent.chain(batchesPerAgent, eventsPerBatch: eventsPerBatch)
                        let (connection, _) = try await agent.open(port: port)
                        // Interleave: send half, read some acks, send the rest.
                        for batch in batches.prefix(4) {
                            try await connection.send(.batch(ByteBuffer(bytes: batch.bytes)))
                        }
                        var acked = 0
                        for _ in 0..<2 {
                            if case .ack = try await connection.receiveSkippingHeartbeats() { acked += 1 }
                        }
                        for batch in batches.dropFirst(4) {
                            try await connection.send(.batch(ByteBuffer(bytes: batch.bytes)))
                        }
                        while acked < batches.count {
                            guard case .ack(let ack) = try await connection.receiveSkippingHeartbeats() else {
                                throw TestFailure("expected ACK")
                            }
                            #expect(ack.status == .stored)
                            acked += 1
                        }
                        await connection.close()
                        return acked
                    }
                }
                var total = 0
                for try await acked in group { total += acked }
                #expect(total == agents.count * batchesPerAgent)
            }
            try await store.drainFullTextIndex()
            let counts = try await store.counts()
            #expect(counts.batches == agents.count * batchesPerAgent)
            #expect(counts.events == agents.count * batchesPerAgent * eventsPerBatch)
            #expect(counts.fullText == counts.events)
            #expect(try await store.findings().isEmpty)
            let lines = try await store.lines(agentName: "ws-7").map { String(decoding: $0, as: UTF8.self) }
            #expect(lines.count == batchesPerAgent * eventsPerBatch)
            #expect(Set(lines).count == lines.count)
        }
    }

    @Test func badFrameOnOneConnectionDoesNotDisturbOthers() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let good = TestAgent(name: "ws-good")
        let bad = TestAgent(name: "ws-bad")
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await self.enrolled(store, good)
            try await self.enrolled(store, bad)
            let (goodConnection, _) = try await good.open(port: port)
            let (badConnection, _) = try await bad.open(port: port)
            let batches = try good.chain(4)
            try await goodConnection.send(.batch(ByteBuffer(bytes: batches[0].bytes)))
            // Unknown frame type 0x7f with a one-byte body.
            try await badConnection.sendRaw([0, 0, 0, 2, 0x7f, 0])
            guard case .error(let error) = try await badConnection.receiveSkippingHeartbeats() else {
                Issue.record("expected ERROR")
                return
            }
            #expect(error.code == .malformedFrame)
            try await badConnection.waitClosed()
            for batch in batches.dropFirst() { try await goodConnection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            try await expectStored(goodConnection, batches)
            await goodConnection.close()
        }
    }
}

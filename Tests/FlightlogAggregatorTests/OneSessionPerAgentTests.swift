import FlightlogAggregator
import FlightlogTestSupport
import FlightlogWire
import NIOCore
import Testing

@testable import FlightlogStore

/// One session per agent key (PROTOCOL.md §7.2 rule 8): each authenticated session may buffer frames of up to 4 MiB,
/// so a stolen key opening sessions by the thousand could hold gigabytes of the aggregator's memory. The newest session
/// to complete its handshake is served; the one it replaces is closed; other agents' sessions are untouched.
@Suite struct OneSessionPerAgentTests {
    @Test func aNewerSessionOfTheSameKeyClosesTheOlderAndOnlyThatOne() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-one")
        let other = TestAgent(name: "ws-other")
        // The bystander sends nothing while the sessions come and go: no idle timeout may close it meanwhile.
        var configuration = AggregatorConfiguration.loopback()
        configuration.heartbeatIntervalSeconds = 3600
        try await withServer(database: dir.file("db.sqlite"), configuration: configuration) { port, store, metrics in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await store.enroll(name: other.name, publicKeyBase64: other.publicKeyBase64, atNanos: 1)
            let (bystander, _) = try await other.open(port: port)
            defer { Task { await bystander.close() } }

            // Twenty sessions of one key, one after the other: each closes the one before.
            var sessions: [TestConnection] = []
            for _ in 0..<20 {
                let (session, _) = try await agent.open(port: port)
                if let previous = sessions.last { try await previous.waitClosed(seconds: 60) }
                sessions.append(session)
            }
            #expect(metrics["sessions_replaced"] == 19)

            // The newest is served; the other agent's session was never touched.
            let batches = try agent.chain(2)
            guard let newest = sessions.last else { return }
            for batch in batches { try await newest.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            for batch in batches {
                let reply = try await newest.receiveSkippingHeartbeats()
                guard case .ack(let ack) = reply, ack.status == .stored, ack.sequence == batch.sequence else {
                    Issue.record("expected a stored ACK for batch \(batch.sequence), got \(String(describing: reply))")
                    return
                }
            }
            let theirs = try other.chain(1)
            for batch in theirs { try await bystander.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            guard case .ack(let ack) = try await bystander.receiveSkippingHeartbeats(), ack.status == .stored else {
                Issue.record("the other agent's session was disturbed")
                return
            }
            #expect(try await store.counts().batches == 3)
            for session in sessions { await session.close() }
        }
    }
}

import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// A peer that has proved no key, against the real `flightlog serve` process: whatever it sends, the process keeps
/// serving the site's agents.
@Suite("flightlog serve against hostile peers")
struct HostilePeerTests {
    /// The reported crash (issue: "any TCP peer can kill `flightlog serve` before authenticating"): a HELLO whose
    /// agent clock is far from the server's, then any PROOF (64 zero bytes, from a key nobody enrolled), trapped on
    /// the skew's overflow and ended the process.
    @Test func aHelloWithAnExtremeClockAndAZeroProofDoesNotStopServe() async throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let agent = TestAgent(name: "ws-after")
        let enroll = try Harness.run(
            "flightlog",
            ["enroll", "--db", db, "--name", agent.name, "--public-key", agent.publicKeyBase64]
        )
        #expect(enroll.code == 0, "\(enroll.err)")
        let port = try Harness.freePort()
        let server = try Harness.startServe(db: db, port: port, log: scratch.file("serve.log"))
        defer { Harness.killHard(server) }
        try await Harness.eventuallyAsync(seconds: 60, "serve listens") { Harness.isListening(port) }

        for clock in [Int64.min, Int64.min + 1, Int64.max] {
            let connection = try await TestConnection.connect(port: port)
            let stranger = TestAgent(name: "stranger")
            try await connection.send(
                .hello(Hello(publicKey: stranger.publicKey, epoch: 1, agentTimeNanos: clock, agentName: "x"))
            )
            guard case .challenge = try await connection.receive() else { throw TestFailure("no CHALLENGE") }
            try await connection.send(.proof(Proof(signature: [UInt8](repeating: 0, count: 64))))
            let reply = try await connection.receive()
            guard case .error(let error) = reply else {
                throw TestFailure("expected ERROR, got \(String(describing: reply))")
            }
            #expect(error.code == .badProof, "clock \(clock)")
            try await connection.waitClosed()
        }
        #expect(server.isRunning)
        let (connection, welcome) = try await agent.open(port: port)
        #expect(welcome.lastSequence == 0)
        await connection.close()
        #expect(server.isRunning)
    }
}

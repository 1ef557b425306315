import FlightlogSystem
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Glibc
import Testing

/// A peer that has proved no key, against the real `flightlog serve` process: whatever it sends, the process keeps
/// serving the site's agents.
@Suite("flightlog serve against hostile peers")
struct HostilePeerTests {
    /// The reported crash (issue: "any TCP peer can kill `flightlog serve` before authenticating"): a HELLO whose
    /// agent clock is far from the server's, then any PROOF (64 zero bytes, from a key nobody enrolled), trapped on
    /// the skew's overflow and ended the process.
    @Test func aHelloWithAnExtremeClockAndAZeroProofDoesNotStopServe() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let agent = TestAgent(name: "ws-after")
        let enroll = try await Harness.runAsync(
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

    /// The agent against an aggregator whose CHALLENGE does not decode (malformed.json tcId 14: its frame length
    /// says 40, three bytes short): the agent answers ERROR malformedFrame and closes (PROTOCOL.md §3 rule 7).
    @Test func anAgentAnswersAFrameThatDoesNotDecodeWithMalformedFrame() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let listener = try RawListener()
        defer { listener.close() }
        let agent = try await listener.startAgent(in: scratch, hostname: "ws-raw", watching: Data())
        defer { Harness.killHard(agent) }
        let connection = try listener.accept(seconds: 60)
        defer { Glibc.close(connection) }
        let hello = try RawListener.readFrame(connection, seconds: 60)
        #expect(hello.type == 0x01)
        // A CHALLENGE whose length field lies: 40 where 43 are needed, so the body ends inside the clock.
        let lying: [UInt8] = [0, 0, 0, 40, 0x02, 0, 1] + Array(0xa0...0xbf) + [0x18, 0xeb, 0x8c, 0xb8, 0x63]
        _ = lying.withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let reply = try RawListener.readFrame(connection, seconds: 60)
        #expect(reply.type == 0x30, "an ERROR frame")
        #expect(reply.body.prefix(2) == [0, 1], "code 1, malformedFrame: \(reply.body)")
    }
}

/// A listening TCP socket on 127.0.0.1 for tests that play the aggregator byte by byte.
struct RawListener {
    let fd: Int32
    let port: Int

    init() throws {
        guard let (fd, port) = LoopbackTCP.bind(listenBacklog: 4) else {
            throw HarnessError("bind or listen on 127.0.0.1 failed")
        }
        self.fd = fd
        self.port = port
    }

    func close() { Glibc.close(self.fd) }

    /// A real `flightlog-agent` with a fresh key in `scratch`, shipping to this listener in plaintext the file
    /// `app.log`, written first with `lines`; its log goes to `agent.log`.
    func startAgent(
        in scratch: TempDirectory,
        hostname: String,
        watching lines: Data,
        arguments: [String] = []
    ) async throws -> Subprocess {
        let keygen = try await Harness.runAsync("flightlog-agent", ["keygen", "--key", scratch.file("agent.key")])
        #expect(keygen.code == 0, "\(keygen.err)")
        try lines.write(to: URL(fileURLWithPath: scratch.file("app.log")))
        return try Harness.start(
            "flightlog-agent",
            [
                "run", "--aggregator", "127.0.0.1:\(self.port)", "--key", scratch.file("agent.key"),
                "--state-dir", scratch.file("state"), "--watch", scratch.file("app.log"), "--hostname", hostname,
                "--insecure-plaintext",
            ] + arguments,
            log: scratch.file("agent.log")
        )
    }

    /// Waits up to `seconds` for a connection.
    func accept(seconds: Int32) throws -> Int32 {
        var poller = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, seconds * 1000) == 1 else { throw HarnessError("no connection within \(seconds) s") }
        let connection = Glibc.accept(self.fd, nil, nil)
        guard connection >= 0 else { throw HarnessError("accept failed") }
        return connection
    }

    /// Reads one frame (length, type, body), waiting up to `seconds` for each read.
    static func readFrame(_ fd: Int32, seconds: Int32) throws -> (type: UInt8, body: [UInt8]) {
        func read(_ count: Int) throws -> [UInt8] {
            var bytes: [UInt8] = []
            while bytes.count < count {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, seconds * 1000) == 1 else { throw HarnessError("nothing within \(seconds) s") }
                var chunk = [UInt8](repeating: 0, count: count - bytes.count)
                let got = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
                guard got > 0 else { throw HarnessError("the peer closed after \(bytes.count) bytes") }
                bytes += chunk.prefix(got)
            }
            return bytes
        }
        let header = try read(5)
        let length = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard length >= 1, length <= 1 << 23 else { throw HarnessError("frame length \(length)") }
        return (header[4], try read(length - 1))
    }
}

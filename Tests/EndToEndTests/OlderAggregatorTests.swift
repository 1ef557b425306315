import FlightlogSystem
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Glibc
import NIOCore
import Testing

/// The real agent against an aggregator that breaks PROTOCOL.md §7.4 rule 4, played byte by byte: it answers batch 1
/// with ERROR `storageFailure`, then, on the next connection, names batch 1 as its head in WELCOME, as an aggregator
/// from before that rule could after storing a later batch alone. The agent must send batch 1 again (§7.3 rule 3)
/// rather than delete it from its spool as stored.
@Suite("flightlog-agent against an aggregator without §7.4 rule 4")
struct OlderAggregatorTests {
    @Test func aBatchAnsweredStorageFailureIsSentAgainWhateverTheNextWelcomeSays() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let listener = try RawListener()
        defer { listener.close() }
        let (agent, epoch, batch) = try await Self.firstBatchNotStored(listener, scratch)
        defer { Harness.killHard(agent) }

        // Second connection: the aggregator claims batch 1 as its head.
        let second = try listener.accept(seconds: 60)
        defer { Glibc.close(second) }
        let (again, _) = try Self.welcome(second, lastSequence: 1, hash: batch.hash)
        #expect(again == epoch)
        let resent = try Self.nextBatch(second)
        #expect(resent.sequence == 1, "the agent must send batch 1 again, not take it as stored")
        #expect(resent.hash == batch.hash)
        let log = (try? String(contentsOfFile: scratch.file("agent.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("names a head past a batch it said it did not store"), "\(log.suffix(2000))")
    }

    /// The same with the agent killed (`kill -9`) between the two connections: which batch was not stored is kept in
    /// its state directory, so the restarted agent sends batch 1 again too.
    @Test func theUnstoredBatchIsSentAgainAfterTheAgentIsKilledAndRestarted() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let listener = try RawListener()
        defer { listener.close() }
        let (agent, _, batch) = try await Self.firstBatchNotStored(listener, scratch)
        defer { Harness.killHard(agent) }
        // The agent writes `unstored` before it reconnects: wait for it, then kill it.
        try await Harness.eventuallyAsync(seconds: 60, "the agent records the unstored batch") {
            FileManager.default.fileExists(atPath: scratch.file("state/unstored"))
        }
        Harness.killHard(agent)

        let restarted = try Harness.start(
            "flightlog-agent",
            [
                "run", "--aggregator", "127.0.0.1:\(listener.port)", "--key", scratch.file("agent.key"),
                "--state-dir", scratch.file("state"), "--watch", scratch.file("app.log"), "--hostname", "ws-older",
                "--insecure-plaintext", "--flush-interval-ms", "50",
            ],
            log: scratch.file("agent.log")
        )
        defer { Harness.killHard(restarted) }
        var second = try listener.accept(seconds: 60)
        // The killed agent may have reconnected once before it died: serve the restarted one.
        if (try? Self.welcome(second, lastSequence: 1, hash: batch.hash)) == nil {
            Glibc.close(second)
            second = try listener.accept(seconds: 60)
            _ = try Self.welcome(second, lastSequence: 1, hash: batch.hash)
        }
        defer { Glibc.close(second) }
        let resent = try Self.nextBatch(second)
        #expect(resent.sequence == 1, "the restarted agent must send batch 1 again, not take it as stored")
        #expect(resent.hash == batch.hash)
    }

    /// Starts the real agent on one line and plays the first connection: WELCOME with nothing stored, batch 1
    /// answered ERROR `storageFailure`, the connection closed. Returns the agent, its epoch and batch 1.
    static func firstBatchNotStored(
        _ listener: RawListener,
        _ scratch: TempDirectory
    ) async throws -> (Subprocess, UInt64, SignedBatch) {
        let agent = try await listener.startAgent(
            in: scratch,
            hostname: "ws-older",
            watching: Data("a line for the first batch\n".utf8),
            arguments: ["--flush-interval-ms", "50"]
        )
        do {
            let first = try listener.accept(seconds: 60)
            defer { Glibc.close(first) }
            let (epoch, _) = try Self.welcome(first, lastSequence: 0, hash: .zero)
            let batch = try Self.nextBatch(first)
            #expect(batch.sequence == 1)
            try Self.send(first, .error(ErrorMessage(code: .storageFailure, sequence: 1, message: "not stored")))
            return (agent, epoch, batch)
        } catch {
            Harness.killHard(agent)
            throw error
        }
    }

    /// Reads HELLO, answers CHALLENGE, reads PROOF (not checked: this aggregator trusts anyone), answers WELCOME with
    /// `lastSequence` and `hash`; returns HELLO's epoch and public key.
    static func welcome(_ fd: Int32, lastSequence: UInt64, hash: Bytes32) throws -> (UInt64, Bytes32) {
        guard case .hello(let hello) = try Self.frame(fd) else { throw HarnessError("expected HELLO") }
        try Self.send(fd, .challenge(Challenge(nonce: .zero, aggregatorTimeNanos: 1)))
        guard case .proof = try Self.frame(fd) else { throw HarnessError("expected PROOF") }
        let welcome = Welcome(
            epoch: hello.epoch,
            lastSequence: lastSequence,
            lastBatchHash: hash,
            window: 64,
            heartbeatIntervalSeconds: 15,
            aggregatorTimeNanos: 2
        )
        try Self.send(fd, .welcome(welcome))
        return (hello.epoch, hello.publicKey)
    }

    /// The next BATCH, skipping heartbeats, within 40 s (an agent with nothing to send heartbeats every 15 s).
    static func nextBatch(_ fd: Int32) throws -> SignedBatch {
        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline {
            switch try Self.frame(fd) {
            case .batch(let body): return try SignedBatch(bytes: Array(buffer: body))
            case .heartbeat: continue
            case let other: throw HarnessError("expected BATCH, got \(other)")
            }
        }
        throw HarnessError("no BATCH within 40 s")
    }

    static func frame(_ fd: Int32) throws -> Frame {
        let (type, body) = try RawListener.readFrame(fd, seconds: 60)
        var bytes = ByteBuffer(bytes: body)
        return try Frame.decode(typeByte: type, body: &bytes)
    }

    static func send(_ fd: Int32, _ frame: Frame) throws {
        var out = ByteBuffer()
        try FrameEncoder().encode(data: frame, out: &out)
        let bytes = Array(buffer: out)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw HarnessError("send failed") }
    }
}

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
        let agent = try await listener.startAgent(
            in: scratch,
            hostname: "ws-older",
            watching: Data("a line for the first batch\n".utf8),
            arguments: ["--flush-interval-ms", "50"]
        )
        defer { Harness.killHard(agent) }

        // First connection: batch 1 is "not stored".
        let first = try listener.accept(seconds: 60)
        let (epoch, _) = try Self.welcome(first, lastSequence: 0, hash: .zero)
        let batch = try Self.nextBatch(first)
        #expect(batch.sequence == 1)
        try Self.send(first, .error(ErrorMessage(code: .storageFailure, sequence: 1, message: "not stored")))
        Glibc.close(first)

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

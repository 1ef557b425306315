import Crypto
import FlightlogTestSupport
import FlightlogWire
import Foundation
import NIOCore
import Testing

@testable import FlightlogAggregator
@testable import FlightlogStore

/// Every single-bit flip of a signed batch is refused before it can reach the store (issue 21: hostile input). The
/// envelope has no byte the signature or the checks before it leave free: a flip anywhere is a malformed envelope,
/// another key, another epoch or a bad signature.
@Suite struct BitFlipTests {
    /// 64 hex digits that do not compress, different for each `n`.
    private static func token(_ n: Int) -> String {
        SHA256.hash(data: Data("flip \(n)".utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A batch of ~3.3 KB (its lines carry tokens that do not compress): ~26,000 variants.
    private static func batch(_ agent: TestAgent) throws -> SignedBatch {
        let events = try (0..<40).map {
            try agent.event(
                "2026-11-24T10:00:\(String(format: "%02d", $0))Z",
                "Nov 24 10:00:\(String(format: "%02d", $0)) ws-flip sshd[\($0 + 100)]: Failed password for user\($0) "
                    + "from 203.0.113.\($0) port \(40000 + $0) ssh2 session \(Self.token($0))",
                [("program", "sshd"), ("user", "user\($0)"), ("src_ip", "203.0.113.\($0)")]
            )
        }
        return try agent.batch(sequence: 1, previous: .zero, events: events)
    }

    /// All flips through the checks a session runs (``BatchVerifier/check(_:)``, then the payload's decoding):
    /// every one is refused, and each refusal names why.
    @Test func everySingleBitFlipIsRefused() async throws {
        let agent = TestAgent(name: "ws-flip")
        let batch = try Self.batch(agent)
        #expect(batch.bytes.count > 3000)
        let verifier = BatchVerifier(publicKey: agent.key.publicKey, epoch: agent.epoch)
        guard case .success(let original) = verifier.check(ByteBuffer(bytes: batch.bytes)) else {
            Issue.record("the unflipped batch must pass")
            return
        }
        #expect((try? verifier.decode(original).get()) != nil)

        var accepted: [Int] = []
        var codes: [ErrorCode: Int] = [:]
        var variants = 0
        // Seconds of signature checks: on a thread of their own, not the pool the session tests' servers run on.
        await offThePool {
            for bit in 0..<(batch.bytes.count * 8) {
                var bytes = batch.bytes
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
                variants += 1
                switch verifier.check(ByteBuffer(bytes: bytes)) {
                case .failure(let rejection):
                    codes[rejection.code, default: 0] += 1
                case .success(let flipped):
                    // Past the checks of the envelope, the payload's decoding is the last gate before the store.
                    if case .failure(let rejection) = verifier.decode(flipped) {
                        codes[rejection.code, default: 0] += 1
                    } else {
                        accepted.append(bit)
                    }
                }
            }
        }
        #expect(variants > 24_000)
        #expect(accepted.isEmpty, "accepted flips at bits \(accepted.prefix(10))")
        #expect(codes.values.reduce(0, +) == variants)
        // The signature catches the flips inside what it covers; the envelope's own checks catch the rest.
        #expect((codes[.badSignature] ?? 0) > variants / 2, "\(codes)")
    }

    /// A sample of the flips over a real session: each is answered with an ERROR, the connection closes, the refusal
    /// is a finding, and no batch or event is stored; the unflipped batch is then stored once.
    @Test func flippedBatchesOverTCPStoreNothing() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let agent = TestAgent(name: "ws-flip")
        let batch = try Self.batch(agent)
        var random = SeededRandom(state: 0x2121_2121_2121)
        let bits = (0..<48).map { _ in Int(random.next() % UInt64(batch.bytes.count * 8)) }
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            for bit in bits {
                var bytes = batch.bytes
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
                let (connection, _) = try await agent.open(port: port)
                try await connection.send(.batch(ByteBuffer(bytes: bytes)))
                let reply = try await connection.receiveSkippingHeartbeats()
                guard case .error = reply else {
                    Issue.record("bit \(bit): expected ERROR, got \(String(describing: reply))")
                    await connection.close()
                    continue
                }
                try await connection.waitClosed()
            }
            let counts = try await store.counts()
            #expect(counts.batches == 0)
            #expect(counts.events == 0)
            #expect(try await store.findings().filter { $0.kind == .rejectedBatch }.count == bits.count)

            try await agent.ship([batch], port: port)
            #expect(try await store.counts().batches == 1)
        }
    }

    /// Agent A's valid batch replayed on agent B's session is refused (another key), and nothing is stored for B.
    @Test func anotherAgentsBatchOnASessionIsRefused() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let a = TestAgent(name: "ws-a")
        let b = TestAgent(name: "ws-b")
        let batchOfA = try Self.batch(a)
        try await withServer(database: dir.file("db.sqlite")) { port, store, _ in
            try await store.enroll(name: a.name, publicKeyBase64: a.publicKeyBase64, atNanos: 1)
            try await store.enroll(name: b.name, publicKeyBase64: b.publicKeyBase64, atNanos: 1)
            let (session, _) = try await b.open(port: port)
            try await session.send(.batch(ByteBuffer(bytes: batchOfA.bytes)))
            let reply = try await session.receiveSkippingHeartbeats()
            guard case .error(let error) = reply else {
                Issue.record("expected ERROR, got \(String(describing: reply))")
                return
            }
            #expect(error.code == .keyMismatch)
            try await session.waitClosed()
            #expect(try await store.counts().batches == 0)
        }
    }
}

import Crypto
import FlightlogTestSupport
import FlightlogWire
import NIOCore
import Testing

/// Seeded random inputs: nothing may trap, and every refusal is a `WireError` (guaranteed by typed throws; the
/// counts below prove the loops reach both outcomes).
struct FuzzTests {
    /// SplitMix64: small, seeded, the same on every platform.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    static let iterations = 20_000

    static func mutate(_ input: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8(
                    1 << Int.random(in: 0..<8, using: &random)
                )
            case 1 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 2 where !bytes.isEmpty:
                bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &random)...)
            case 3:
                bytes.insert(
                    UInt8.random(in: 0...255, using: &random),
                    at: Int.random(in: 0...bytes.count, using: &random)
                )
            default:
                // Interesting values in a length or count field.
                if bytes.count >= 4 {
                    let at = Int.random(in: 0...(bytes.count - 4), using: &random)
                    let value: [UInt8] = [
                        [0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [0, 0x40, 0, 0], [0x7f, 0xff, 0xff, 0xff],
                    ]
                    .randomElement(using: &random)!
                    bytes.replaceSubrange(at..<(at + 4), with: value)
                }
            }
        }
        return bytes
    }

    /// Feeds `bytes` to a parser until it needs more or refuses; returns whether it refused.
    static func parse(_ bytes: [UInt8]) -> Bool {
        var parser = FrameParser()
        var buffer = ByteBuffer(bytes: bytes)
        do {
            while let frame = try parser.nextFrame(buffer: &buffer) {
                if case .batch(let body) = frame { _ = try? SignedBatch(buffer: body) }
            }
            return false
        } catch {
            _ = error.caseName
            return true
        }
    }

    @Test("random bytes through FrameParser")
    func randomFrames() async {
        await offThePool {
            var random = Random(state: 1)
            var refused = 0
            for _ in 0..<Self.iterations {
                var bytes = (0..<Int.random(in: 0...64, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
                if Bool.random(using: &random), bytes.count >= 5 {
                    // A plausible small length and a real type byte, so that bodies get decoded.
                    bytes[0...3] = [0, 0, 0, UInt8(bytes.count - 4)]
                    bytes[4] = FrameType.allCases.randomElement(using: &random)!.rawValue
                }
                if Self.parse(bytes) { refused += 1 }
            }
            #expect(refused > Self.iterations / 4)
        }
    }

    @Test("mutations of valid frames through FrameParser")
    func mutatedFrames() async {
        await offThePool {
            var random = Random(state: 2)
            let valid = FrameTests.samples.map { Array($0.encoded.readableBytesView) }
            var refused = 0
            var decoded = 0
            for _ in 0..<Self.iterations {
                let bytes = Self.mutate(valid.randomElement(using: &random)!, &random)
                if Self.parse(bytes) { refused += 1 } else { decoded += 1 }
            }
            #expect(refused > 0)
            #expect(decoded > 0)
        }
    }

    @Test("mutations of a valid batch through parse, verify, inflate and decode")
    func mutatedBatches() async throws {
        try await offThePool {
            var random = Random(state: 3)
            let batch = try Fixtures.batch()
            let key = Fixtures.agentKey.publicKey
            var outcomes: [String: Int] = [:]
            for iteration in 0..<Self.iterations {
                var bytes = Self.mutate(batch.bytes, &random)
                // Every tenth mutation is re-signed so that inflation and event decoding are reached too.
                if iteration % 10 == 0, bytes.count >= 188 { bytes = try Fixtures.resign(bytes) }
                do {
                    let parsed = try SignedBatch(bytes: bytes)
                    // decodeEvents is exercised even on unverified input: it must be safe on its own.
                    if let events = try? parsed.decodeEvents() { _ = events.count }
                    try parsed.verifySignature(publicKey: key)
                    _ = try parsed.decodeEvents()
                    outcomes["accepted", default: 0] += 1
                } catch {
                    outcomes[(error as? WireError)?.caseName ?? "\(error)", default: 0] += 1
                }
            }
            #expect(outcomes["badSignature", default: 0] > 0)
            #expect(outcomes.keys.count >= 5, "\(outcomes)")
        }
    }

    @Test("mutations of a valid payload through EventCodec.decode and of its zlib stream through Zlib.inflate")
    func mutatedPayloads() async throws {
        try await offThePool {
            var random = Random(state: 4)
            let payload = try EventCodec.encode(Fixtures.events)
            let compressed = try Zlib.compress(payload)
            var refused = 0
            for _ in 0..<Self.iterations {
                let mutated = Self.mutate(payload, &random)
                do {
                    _ = try EventCodec.decode(mutated, count: Int.random(in: 0...4, using: &random))
                } catch {
                    refused += 1
                }
                do {
                    _ = try Zlib.inflate(
                        Self.mutate(compressed, &random),
                        declaredLength: Int.random(in: 0...600, using: &random)
                    )
                } catch {
                    refused += 1
                }
            }
            #expect(refused > Self.iterations)
        }
    }
}

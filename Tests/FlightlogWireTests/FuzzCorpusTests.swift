import Crypto
import FlightlogTestSupport
import FlightlogWire
import NIOCore
import Testing

/// Replays the corpus libFuzzer kept for the wire's fuzz targets (`scripts/fuzz.sh`, docs/FUZZING.md) through the
/// decoding each target runs (`Fuzz/Sources/FuzzTargets`, whose doc comments say what the control bytes mean): every
/// input ends in values or a `WireError` (typed throws: never a trap), and nothing that decodes was read from bytes
/// other than its own encoding.
@Suite("Fuzz corpus replay: frames, handshake, batches")
struct FuzzCorpusTests {
    // MARK: - Frames

    @Test("frames: a stream in chunks decodes to canonical frames until a WireError")
    func frames() throws {
        let corpus = try RepositoryFiles.fuzzCorpus("frames")
        #expect(!corpus.isEmpty)
        var outcomes = Outcomes()
        for (name, input) in corpus {
            guard let control = input.first else { continue }
            let stream = Array(input.dropFirst())
            let chunk = control & 0x40 != 0 ? max(stream.count, 1) : Int(control & 0x3f) + 1
            var parser = FrameParser(
                maxFrameLength: control & 0x80 != 0 ? WireLimits.maxHandshakeFrameLength : WireLimits.maxFrameLength
            )
            var buffer = ByteBuffer()
            var offset = 0
            chunks: for start in stride(from: 0, to: stream.count, by: chunk) {
                buffer.writeBytes(stream[start..<min(start + chunk, stream.count)])
                do {
                    while let frame = try parser.nextFrame(buffer: &buffer) {
                        offset = Self.expectCanonical(frame, in: stream, at: offset, name)
                        outcomes.frames += 1
                    }
                } catch {
                    outcomes.refused(error)
                    break chunks
                }
            }
        }
        outcomes.expectBoth()
    }

    // MARK: - Handshake

    @Test("handshake: frames up to the handshake limit, their keys and signatures checked without a trap")
    func handshake() throws {
        let corpus = try RepositoryFiles.fuzzCorpus("handshake")
        #expect(!corpus.isEmpty)
        let nonce = try #require(Bytes32((0xa0...0xbf).map { UInt8($0) }))
        var outcomes = Outcomes()
        for (name, input) in corpus {
            var parser = FrameParser(maxFrameLength: WireLimits.maxHandshakeFrameLength)
            var buffer = ByteBuffer(bytes: input)
            var offset = 0
            var hello: Hello?
            do {
                while let frame = try parser.nextFrame(buffer: &buffer) {
                    offset = Self.expectCanonical(frame, in: input, at: offset, name)
                    outcomes.frames += 1
                    switch frame {
                    case .hello(let received):
                        hello = received
                    case .proof(let proof):
                        guard let hello, let key = try? Ed25519.publicKey(hello.publicKey.bytes) else { continue }
                        let message = Handshake.proofMessage(
                            nonce: nonce,
                            publicKey: hello.publicKey,
                            epoch: hello.epoch
                        )
                        _ = Ed25519.isValidSignature(proof.signature, for: message, publicKey: key)
                    case .enroll(let enroll):
                        guard let hello, let key = try? Ed25519.publicKey(hello.publicKey.bytes) else { continue }
                        let message = Handshake.enrolmentMessage(
                            nonce: nonce,
                            publicKey: hello.publicKey,
                            epoch: hello.epoch,
                            token: enroll.token
                        )
                        _ = Ed25519.isValidSignature(enroll.signature, for: message, publicKey: key)
                    case .rotate(let record):
                        _ = record.signatureProblem
                        #expect(try RotationRecord(bytes: record.bytes) == record, "\(name)")
                    default:
                        continue
                    }
                }
            } catch {
                outcomes.refused(error)
            }
        }
        outcomes.expectBoth()
    }

    // MARK: - Batches

    @Test("batch: envelopes, payloads and zlib streams decode exactly or throw a WireError")
    func batches() throws {
        let corpus = try RepositoryFiles.fuzzCorpus("batch")
        #expect(!corpus.isEmpty)
        var outcomes = Outcomes()
        for (name, input) in corpus {
            guard let mode = input.first else { continue }
            let rest = Array(input.dropFirst())
            let number = rest.count >= 2 ? Int(rest[0]) << 8 | Int(rest[1]) : 0
            let tail = Array(rest.dropFirst(2))
            do throws(WireError) {
                switch mode % 4 {
                case 0:
                    // What the aggregator does after the signature verified; here the signature is not checked.
                    let batch = try SignedBatch(bytes: rest)
                    #expect(batch.bytes == rest, "\(name)")
                    let events = try batch.decodeEvents()
                    #expect(events.count == batch.eventCount, "\(name)")
                case 1, 3:
                    guard rest.count >= 2 else { continue }
                    let events = try EventCodec.decode(tail, count: number)
                    #expect(events.count == number, "\(name)")
                    #expect(try EventCodec.encode(events) == tail, "\(name): decoded events encode to other bytes")
                default:
                    guard rest.count >= 2 else { continue }
                    #expect(try Zlib.inflate(tail, declaredLength: number).count == number, "\(name)")
                }
                outcomes.frames += 1
            } catch {
                outcomes.refused(error)
            }
        }
        outcomes.expectBoth()
    }

    // MARK: - Helpers

    /// How many inputs decoded and were refused: a corpus that only ever does one of them tests half the code.
    struct Outcomes {
        var frames = 0
        var refusals = 0

        mutating func refused(_ error: WireError) { self.refusals += 1 }

        func expectBoth() {
            #expect(self.frames > 0)
            #expect(self.refusals > 0)
        }
    }

    /// Expects the bytes of `stream` at `offset` to be exactly `frame`'s encoding; the offset after them.
    static func expectCanonical(_ frame: Frame, in stream: [UInt8], at offset: Int, _ name: String) -> Int {
        let encoded = Array(frame.encoded.readableBytesView)
        let end = offset + encoded.count
        #expect(
            end <= stream.count && stream[offset..<end].elementsEqual(encoded),
            "\(name): a \(frame.type) frame decoded from bytes that are not its encoding"
        )
        return end
    }
}

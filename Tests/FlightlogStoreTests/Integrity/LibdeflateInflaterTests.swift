import FlightlogTestSupport
import FlightlogWire
import Testing

@testable import FlightlogStore

/// `verify` inflates stored batches with libdeflate; ingest and every other reader with zlib. The two must give the
/// same bytes, and for anything libdeflate does not decode exactly, the same error.
@Suite("LibdeflateInflater: libdeflate inflates as Zlib.inflate does")
struct LibdeflateInflaterTests {
    /// The outcome of one inflate: its bytes or its error.
    static func outcome(_ body: () throws(WireError) -> [UInt8]) -> Result<[UInt8], WireError> {
        do throws(WireError) { return .success(try body()) } catch { return .failure(error) }
    }

    @Test("equal output on valid streams, equal errors on damaged ones and wrong lengths")
    func agreesWithZlib() throws {
        var random = SeededRandom(state: 0x1234_5678_9ABC_DEF1)
        var compared = 0
        for round in 0..<60 {
            // Text-like data (compressible) of varied sizes, empty included.
            let size = round == 0 ? 0 : Int(random.next() % 200_000)
            let words = ["sshd", "Accepted", "password", "for", "mchen", "from", "203.0.113.7", "port", "\n"]
            var data: [UInt8] = []
            while data.count < size { data += Array(random.pick(words).utf8) + [0x20] }
            data = Array(data.prefix(size))
            let stream = try Zlib.compress(data)
            var cases: [(ArraySlice<UInt8>, Int)] = [
                (stream[...], data.count), (stream[...], data.count + 1), (stream[...], max(0, data.count - 1)),
                (stream.dropLast(1), data.count), ((stream + [0]).dropFirst(0), data.count),
                (stream.prefix(stream.count / 2), data.count),
            ]
            var flipped = stream
            flipped[Int(random.next() % UInt64(flipped.count))] ^= UInt8(1 << (random.next() % 8))
            cases.append((flipped[...], data.count))
            for (input, length) in cases {
                let zlib = Self.outcome { () throws(WireError) in try Zlib.inflate(input, declaredLength: length) }
                let fast = Self.outcome { () throws(WireError) in
                    try LibdeflateInflater.inflate(input, declaredLength: length)
                }
                #expect(fast == zlib, "round \(round), \(input.count) bytes, declared \(length)")
                compared += 1
            }
            #expect(try LibdeflateInflater.inflate(stream[...], declaredLength: data.count) == data)
        }
        #expect(compared == 420)
    }
}

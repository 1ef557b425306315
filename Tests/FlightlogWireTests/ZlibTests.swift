import FlightlogWire
import Testing

/// Bounded zlib (PROTOCOL.md §5).
struct ZlibTests {
    @Test(arguments: [0, 1, 100, 70_000])
    func roundTrip(size: Int) throws {
        let input = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
        let compressed = try Zlib.compress(input)
        #expect(compressed.starts(with: [0x78]))
        #expect(try Zlib.inflate(compressed, declaredLength: size) == input)
    }

    @Test("a zip bomb stops at its declared length")
    func zipBomb() throws {
        let bomb = try Zlib.compress(Array(repeating: 0, count: 1 << 20), level: 9)
        #expect(bomb.count < 2048)
        #expect(throws: WireError.inflatedLengthMismatch(declared: 1000)) {
            try Zlib.inflate(bomb, declaredLength: 1000)
        }
        #expect(throws: WireError.inflatedLengthMismatch(declared: (1 << 20) - 1)) {
            try Zlib.inflate(bomb, declaredLength: (1 << 20) - 1)
        }
        #expect(throws: WireError.inflatedLengthMismatch(declared: 0)) { try Zlib.inflate(bomb, declaredLength: 0) }
    }

    @Test("a stream shorter than declared is refused")
    func short() throws {
        let compressed = try Zlib.compress(Array(repeating: 1, count: 500))
        #expect(throws: WireError.inflatedLengthMismatch(declared: 501)) {
            try Zlib.inflate(compressed, declaredLength: 501)
        }
    }

    @Test("bytes after the stream are refused")
    func trailing() throws {
        let compressed = try Zlib.compress(Array(repeating: 1, count: 500))
        #expect(throws: WireError.trailingBytes(what: "zlib stream", count: 2)) {
            try Zlib.inflate(compressed + [0, 0], declaredLength: 500)
        }
    }

    @Test("a cut stream is corrupt")
    func truncated() throws {
        let compressed = try Zlib.compress(Array(0..<200))
        for cut in 0..<compressed.count {
            #expect(throws: WireError.self) { try Zlib.inflate(compressed[..<cut], declaredLength: 200) }
        }
        #expect(throws: WireError.corruptCompression("zlib stream is truncated")) {
            try Zlib.inflate(compressed.dropLast(), declaredLength: 200)
        }
        #expect(throws: WireError.corruptCompression("zlib stream is truncated")) {
            try Zlib.inflate([], declaredLength: 10)
        }
    }

    @Test("garbage is corrupt")
    func garbage() {
        #expect(throws: WireError.corruptCompression("incorrect header check")) {
            try Zlib.inflate([0x00, 0x01, 0x02, 0x03], declaredLength: 10)
        }
        // A raw deflate stream without the zlib header and checksum is not accepted.
        #expect(throws: WireError.self) { try Zlib.inflate([0x03, 0x00], declaredLength: 0) }
    }

    @Test("a wrong checksum is corrupt")
    func checksum() throws {
        var compressed = try Zlib.compress(Array(0..<200))
        compressed[compressed.count - 1] ^= 1
        #expect(throws: WireError.corruptCompression("incorrect data check")) {
            try Zlib.inflate(compressed, declaredLength: 200)
        }
    }
}

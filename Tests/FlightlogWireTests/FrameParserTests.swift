import FlightlogWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

/// Splitting a byte stream into frames (PROTOCOL.md §3).
struct FrameParserTests {
    static var stream: [UInt8] {
        FrameTests.samples.flatMap { Array($0.encoded.readableBytesView) }
    }

    @Test("all frames in one buffer")
    func whole() throws {
        var buffer = ByteBuffer(bytes: Self.stream)
        var parser = FrameParser()
        var frames: [Frame] = []
        while let frame = try parser.nextFrame(buffer: &buffer) {
            frames.append(frame)
        }
        #expect(frames == FrameTests.samples)
        #expect(buffer.readableBytes == 0)
    }

    @Test("one byte at a time")
    func oneByteAtATime() throws {
        var parser = FrameParser()
        var buffer = ByteBuffer()
        var frames: [Frame] = []
        for byte in Self.stream {
            buffer.writeInteger(byte)
            while let frame = try parser.nextFrame(buffer: &buffer) {
                frames.append(frame)
            }
        }
        #expect(frames == FrameTests.samples)
        #expect(buffer.readableBytes == 0)
    }

    @Test("an incomplete frame waits for more bytes and yields nothing")
    func incomplete() throws {
        let frame = Array(FrameTests.samples[0].encoded.readableBytesView)
        for cut in 0..<frame.count {
            var parser = FrameParser()
            var buffer = ByteBuffer(bytes: frame[..<cut])
            #expect(try parser.nextFrame(buffer: &buffer) == nil)
            buffer.writeBytes(frame[cut...])
            #expect(try parser.nextFrame(buffer: &buffer) == FrameTests.samples[0])
        }
    }

    @Test("a length over the limit is refused before the body arrives")
    func oversized() throws {
        var parser = FrameParser()
        var buffer = ByteBuffer(bytes: [0x00, 0x40, 0x04, 0x01])
        #expect(throws: WireError.frameTooLarge(length: 4_195_329, limit: 4_195_328)) {
            try parser.nextFrame(buffer: &buffer)
        }
        var largest = FrameParser()
        var exact = ByteBuffer(bytes: [0x00, 0x40, 0x04, 0x00])
        #expect(try largest.nextFrame(buffer: &exact) == nil)
        var smaller = FrameParser(maxFrameLength: 100)
        var hundredOne = ByteBuffer(bytes: [0, 0, 0, 101])
        #expect(throws: WireError.frameTooLarge(length: 101, limit: 100)) {
            try smaller.nextFrame(buffer: &hundredOne)
        }
        var larger = FrameParser(maxFrameLength: .max)
        var huge = ByteBuffer(bytes: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireError.frameTooLarge(length: 0xffff_ffff, limit: WireLimits.maxFrameLength)) {
            try larger.nextFrame(buffer: &huge)
        }
    }

    /// The code is chosen by the case, never by a field's name: another length past its limit that happens to be
    /// called "frame" is still `malformedFrame`.
    @Test(
        "each decoding error maps to the ERROR code of PROTOCOL.md §3 rule 7",
        arguments: [
            (WireError.frameTooLarge(length: 4_195_329, limit: 4_195_328), ErrorCode.frameTooLarge),
            (.frameTooLarge(length: 1038, limit: 1037), .frameTooLarge),
            (.lengthExceedsLimit(what: "frame", length: 2, limit: 1), .malformedFrame),
            (.lengthExceedsLimit(what: "GOODBYE message", length: 1025, limit: 1024), .malformedFrame),
            (.badMagic(what: "HELLO"), .badMagic),
            (.unsupportedVersion(what: "HELLO", version: 0), .unsupportedVersion),
            (.truncated(what: "HELLO"), .malformedFrame),
            (.unknownFrameType(0x7f), .malformedFrame),
        ]
    )
    func frameErrorCode(_ error: WireError, _ code: ErrorCode) {
        #expect(error.frameErrorCode == code)
    }

    @Test("a zero length is refused")
    func zeroLength() {
        var parser = FrameParser()
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0])
        #expect(throws: WireError.invalidValue(what: "frame length", value: 0)) {
            try parser.nextFrame(buffer: &buffer)
        }
    }

    @Test("the NIO decoder passes ByteToMessageDecoderVerifier")
    func decoderVerifier() throws {
        let pairs = FrameTests.samples.map { frame in (frame.encoded, [frame]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
        let together = ByteBuffer(bytes: Self.stream)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: [(together, FrameTests.samples)]) {
            FrameDecoder()
        }
    }

    @Test("the NIO encoder writes what writeFrame writes")
    func encoder() throws {
        for frame in FrameTests.samples {
            var out = ByteBuffer()
            try FrameEncoder().encode(data: frame, out: &out)
            #expect(out == frame.encoded)
        }
    }

    @Test("a handshake decoder takes small frames until the handshake is marked complete, then full-size ones")
    func handshakeLimit() throws {
        let large = Frame.error(ErrorMessage(code: .internalError, message: String(repeating: "x", count: 1024)))
        var padded = ByteBuffer()
        padded.writeFrame(.goodbye(Goodbye(message: String(repeating: "g", count: 1024))))
        #expect(padded.readableBytes - 4 <= WireLimits.maxHandshakeFrameLength)
        // A BATCH-sized length field: over the handshake limit, within the protocol's.
        let oversized: [UInt8] = [0x00, 0x00, 0x10, 0x00, 0x10]

        let limit = HandshakeLimit()
        let before = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(handshake: limit)))
        try before.writeInbound(large.encoded)
        #expect(try before.readInbound(as: Frame.self) == large)
        #expect(throws: WireError.frameTooLarge(length: 4096, limit: 1037)) {
            try before.writeInbound(ByteBuffer(bytes: oversized))
        }

        limit.markComplete()
        let after = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(handshake: limit)))
        try after.writeInbound(ByteBuffer(bytes: oversized))
        #expect(try after.readInbound(as: Frame.self) == nil)  // waiting for the 4,096-byte body, not refused

        var parser = FrameParser()
        parser.maxFrameLength = .max
        #expect(parser.maxFrameLength == WireLimits.maxFrameLength)
    }
}

import NIOCore
import NIOTestUtils
import Testing

@testable import FlightlogAgent

/// RFC 6587 framing on TCP: octet counting or LF-terminated, chosen by the connection's first byte; every malformed
/// count or over-long message is an error (the connection closes), found before anything is buffered beyond one
/// message.
@Suite struct SyslogFrameDecoderTests {
    /// Every message `input` holds, decoded from the bytes fed all at once and one at a time (the same either way).
    private func decode(_ input: String, max: Int = 1024) throws -> [String] {
        func run(_ chunks: [[UInt8]]) throws -> [String] {
            var decoder = SyslogFrameDecoder(maxMessageBytes: max)
            var buffer = ByteBuffer()
            var messages: [String] = []
            for chunk in chunks {
                buffer.writeBytes(chunk)
                while let message = try decoder.next(&buffer) { messages.append(String(buffer: message)) }
            }
            return messages
        }
        let bytes = Array(input.utf8)
        let whole = try run([bytes])
        let oneByOne = try run(bytes.map { [$0] })
        #expect(whole == oneByOne)
        return whole
    }

    @Test func octetCountingFramesMayHoldNewlinesAndFollowEachOther() throws {
        let first = "<13>1 2026-11-24T10:00:00Z h sshd - - - one\ntwo"
        let second = "<13>Nov 24 10:00:00 h app: x"
        let input = "\(first.utf8.count) \(first)\(second.utf8.count) \(second)\n"
        #expect(try self.decode(input) == [first, second])
    }

    @Test func lineFramingSkipsEmptyLines() throws {
        #expect(try self.decode("<13>a\n\n<14>b\n") == ["<13>a", "<14>b"])
    }

    @Test func aLineAtTheCapIsKeptAndOneByteMoreIsAnError() throws {
        let atCap = String(repeating: "x", count: 480)
        #expect(try self.decode(atCap + "\n", max: 480) == [atCap])
        #expect(throws: AgentError.self) { try self.decode(atCap + "y\n", max: 480) }
        #expect(throws: AgentError.self) { try self.decode(atCap + "yz", max: 480) }
    }

    @Test(
        "malformed octet counts close the connection",
        arguments: ["5 hello" + "abc hello", "0 ", "05 hello", "9999 x", "12345678", "5x hello", "5 hello" + " 3 abc"]
    )
    func malformedCounts(_ input: String) {
        #expect(throws: AgentError.self) { try self.decode(input, max: 1024) }
    }

    @Test func aPartialFrameWaitsForMoreBytes() throws {
        var decoder = SyslogFrameDecoder(maxMessageBytes: 1024)
        var buffer = ByteBuffer(string: "11 <13>hel")
        #expect(try decoder.next(&buffer) == nil)
        buffer.writeString("lo wo")
        #expect(try decoder.next(&buffer).map { String(buffer: $0) } == "<13>hello w")
        #expect(decoder.framing == .octetCounting)
    }

    @Test func theChannelDecoderPassesNIOsVerifier() throws {
        let frames = ["<13>a b c", "<14>1 - - - - - - d"]
        let counted = frames.map { "\($0.utf8.count) \($0)" }.joined()
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(ByteBuffer(string: counted), frames.map { ByteBuffer(string: $0) })]
        ) { SyslogFrameDecoder(maxMessageBytes: 1024) }
        let lines = frames.map { $0 + "\n" }.joined()
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(ByteBuffer(string: lines), frames.map { ByteBuffer(string: $0) })]
        ) { SyslogFrameDecoder(maxMessageBytes: 1024) }
    }
}

import Testing

@testable import FlightlogAgent

/// The byte shortcuts of AuthMessage agree with the Character operations they replace, also where combining marks,
/// prepended marks or other non-ASCII text sit next to the bytes looked at.
@Suite struct CharacterBytesTests {
    static let pieces = [
        "a", "Z", "7", "0", " ", ",", "/", ".", ":", "\u{301}", "é", "e\u{301}", "\u{600}", "\u{200D}", "🙂", "\r",
        "\t", "port", "ssh2",
    ]

    @Test func agreeOnRandomText() {
        var random = SeededGenerator(state: 7)
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0...10, using: &random) {
                text += Self.pieces.randomElement(using: &random) ?? ""
            }
            // Substrings that do not start at the beginning of their string, too.
            let whole = "x " + text
            let sub = whole.dropFirst(2)
            let ip = sub.asciiPrefix(
                bytes: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: ",") },
                characters: { $0 != " " && $0 != "," }
            )
            #expect(
                ip == sub.prefix { $0 != " " && $0 != "," }
                    && ip.endIndex == sub.prefix { $0 != " " && $0 != "," }.endIndex
            )
            let digits = sub.asciiPrefix(
                bytes: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") },
                characters: { $0.isASCII && $0.isNumber }
            )
            #expect(digits.endIndex == sub.prefix { $0.isASCII && $0.isNumber }.endIndex)
            #expect(sub.firstCharacterIndex(ascii: UInt8(ascii: " ")) == sub.firstIndex(of: " "))
            let split = sub.split(separator: "/", maxSplits: 1).first ?? sub
            let fast = sub.firstSplit(ascii: UInt8(ascii: "/"))
            #expect(fast == split && fast.startIndex == split.startIndex && fast.endIndex == split.endIndex, "\(text)")
            #expect(sub.startsWith("port") == sub.utf8.starts(with: "port".utf8))
        }
    }
}

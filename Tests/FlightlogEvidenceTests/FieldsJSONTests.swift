import FlightlogWire
import Foundation
import Testing

@testable import FlightlogEvidence

@Suite("FieldsJSON: the events.fields column")
struct FieldsJSONTests {
    /// Every value round-trips through a standard JSON parser, keys in order, with each escape JSON requires.
    @Test(arguments: [
        "plain",
        "",
        "quote \" and backslash \\ inside",
        "\"\\\"",
        "new\nline\r\ttab",
        "control \u{01}\u{1f} bytes",
        "Zoë 日本語 \u{7f} emoji 🔐",
        "\u{00}",
    ])
    func valuesRoundTrip(value: String) throws {
        let fields = [Event.Field("k\"ey", value), Event.Field("user", "mchen")]
        let json = FieldsJSON.encode(fields)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
        )
        #expect(object == ["k\"ey": value, "user": "mchen"])
        #expect(json.hasPrefix("{\"k\\\"ey\":"))
        // Bytes that need no escape are copied as they are.
        #expect(!json.contains("\\u") || value.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func escapesAreTheShortForms() {
        #expect(FieldsJSON.encode([Event.Field("a", "\"\\\n\r\t\u{01}")]) == #"{"a":"\"\\\n\r\t\u0001"}"#)
        #expect(FieldsJSON.encode([]) == "{}")
    }
}

@Suite("FieldsJSON: the 8-byte escape test")
struct FieldsJSONWordTests {
    /// Every byte value at every position of a word otherwise made of plain bytes: the word test may say "maybe"
    /// too often, never "no" when a byte needs an escape.
    @Test func neverMissesAByteThatNeedsAnEscape() {
        let fills: [UInt8] = [0x61, 0x7f, 0x80, 0xc3, 0xff, 0x21, 0x23, 0x5b, 0x5d]
        for fill in fills {
            for position in 0..<8 {
                for byte in 0...255 {
                    var bytes = [UInt8](repeating: fill, count: 8)
                    bytes[position] = UInt8(byte)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let needs = bytes.contains { (value: UInt8) -> Bool in
                        value < 0x20 || value == 0x22 || value == 0x5c
                    }
                    if needs { #expect(FieldsJSON.mayNeedEscape(word), "\(bytes)") }
                    let printable = byte >= 0x20 && byte < 0x80
                    let plain = fill == 0x61 && !needs && printable
                    // Printable ASCII around printable ASCII: the word is let through whole.
                    if plain { #expect(!FieldsJSON.mayNeedEscape(word), "\(bytes)") }
                }
            }
        }
    }
}

/// The `fields` object as every JSON output writes it: a key that repeats (PROTOCOL.md §6) becomes one key with an
/// array of its values in order, so that `jq`, Python and JavaScript (which keep the last of two equal keys) lose
/// none of them.
@Suite("FieldsJSON in outputs: repeated keys grouped")
struct FieldsJSONOutputTests {
    static func output(_ fields: [Event.Field]) -> String {
        FieldsJSON.groupingRepeatedKeys(FieldsJSON.encode(fields))
    }

    @Test func aKeyThatOccursOnceKeepsItsStringAndTheStoredBytes() {
        let fields = [Event.Field("user", "mchen"), Event.Field("src_ip", "203.0.113.77")]
        #expect(Self.output(fields) == FieldsJSON.encode(fields))
        #expect(Self.output([]) == "{}")
    }

    @Test func aRepeatedKeyBecomesAnArrayInOrderWhereItFirstOccurs() throws {
        let fields = [
            Event.Field("group", "sales"), Event.Field("user", "mchen"), Event.Field("group", "export"),
            Event.Field("k\"q", "a\\b"), Event.Field("group", "admins"), Event.Field("k\"q", "\n"),
        ]
        let text = Self.output(fields)
        #expect(text == #"{"group":["sales","export","admins"],"user":"mchen","k\"q":["a\\b","\n"]}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["group"] as? [String] == ["sales", "export", "admins"])
        #expect(object["user"] as? String == "mchen")
        #expect(object["k\"q"] as? [String] == ["a\\b", "\n"])
    }

    @Test func sixtyFourValuesOfOneKeyAreOneArray() throws {
        let fields = (0..<WireLimits.maxFieldsPerEvent).map { Event.Field("ip", "10.0.0.\($0)") }
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.output(fields).utf8)) as? [String: [String]]
        )
        #expect(object["ip"] == (0..<WireLimits.maxFieldsPerEvent).map { "10.0.0.\($0)" })
    }

    /// A column no release writes (a tampered row): copied as it is, never half-rewritten.
    @Test(arguments: [#"[1,2]"#, #"{"a":1,"a":2}"#, #"{"a":"1","a""#, "not json", #"{"a":"x"}trailing"#])
    func anObjectNotInTheStoredFormIsCopiedUnchanged(stored: String) {
        #expect(FieldsJSON.groupingRepeatedKeys(stored) == stored)
    }
}

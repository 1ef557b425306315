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

import FlightlogWire
import Foundation
import Testing

@testable import FlightlogEvidence

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

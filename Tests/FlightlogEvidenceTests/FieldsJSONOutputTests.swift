import FlightlogWire
import Foundation
import Testing

@testable import FlightlogEvidence

/// The `fields` object as every JSON output writes it: keys under their ECS names, and a key that repeats
/// (PROTOCOL.md §6) becomes one key with an array of its values in order, so that `jq`, Python and JavaScript (which
/// keep the last of two equal keys) lose none of them.
@Suite("FieldsJSON in outputs: ECS names, repeated keys grouped")
struct FieldsJSONOutputTests {
    static func output(_ fields: [Event.Field], names: FieldsJSON.OutputNames = .stored) -> String {
        FieldsJSON.forOutput(FieldsJSON.encode(fields), names: names)
    }

    @Test func aKeyThatOccursOnceKeepsItsStringAndTheStoredBytes() {
        let fields = [Event.Field("user", "mchen"), Event.Field("src_ip", "203.0.113.77")]
        #expect(Self.output(fields) == FieldsJSON.encode(fields))
        #expect(Self.output([]) == "{}")
        #expect(Self.output([], names: .ecs) == "{}")
        let plain = [Event.Field("audit_type", "EXECVE"), Event.Field("k\"q", "v")]
        #expect(Self.output(plain, names: .ecs) == FieldsJSON.encode(plain), "no ECS name: the stored bytes")
    }

    @Test func everyNameTheSchemaMapsIsWrittenUnderItsECSName() throws {
        let fields = FieldSchema.entries.map { Event.Field($0.flightlog, "v-" + $0.flightlog) }
        let text = Self.output(fields + [Event.Field("tty", "pts/1")], names: .ecs)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(object.count == FieldSchema.entries.count + 1)
        for entry in FieldSchema.entries {
            #expect(object[entry.ecs] == "v-" + entry.flightlog, "\(entry.flightlog) → \(entry.ecs): \(text)")
        }
        #expect(object["tty"] == "pts/1")
        #expect(text.hasPrefix(#"{"message":"v-message","log.syslog.hostname":"v-hostname","#), "order kept: \(text)")
    }

    /// A JSON line's own `user.name` and a parsed `user` are one key in the output: both values are kept.
    @Test func keysThatRenamingMakesEqualAreGrouped() {
        let fields = [
            Event.Field("user.name", "from-json"), Event.Field("src_ip", "10.0.0.1"), Event.Field("user", "mchen"),
            Event.Field("src_ip", "10.0.0.2"),
        ]
        #expect(
            Self.output(fields, names: .ecs)
                == #"{"user.name":["from-json","mchen"],"source.ip":["10.0.0.1","10.0.0.2"]}"#
        )
        #expect(FieldSchema.ecsName("src_ip") == "source.ip")
        #expect(FieldSchema.ecsName("audit_type") == "audit_type")
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
        #expect(FieldsJSON.forOutput(stored) == stored)
        #expect(FieldsJSON.forOutput(stored, names: .stored) == stored)
    }
}

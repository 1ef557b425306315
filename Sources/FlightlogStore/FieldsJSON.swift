public import FlightlogWire

/// Parsed fields as one JSON object of strings, the form the `events.fields` column holds.
///
/// Hand-written because it runs once per stored event; keys keep their order, duplicates included.
public enum FieldsJSON {
    /// `{"key":"value",…}` with JSON string escaping.
    public static func encode(_ fields: [Event.Field]) -> String {
        if fields.isEmpty { return "{}" }
        var out: [UInt8] = []
        out.reserveCapacity(fields.count * 24)
        Self.encode(fields, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Replaces the contents of `out` with the bytes ``encode(_:)`` returns, reusing its storage (the verifier
    /// encodes every stored event's fields, so it keeps one buffer).
    public static func encode(_ fields: [Event.Field], into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(UInt8(ascii: "{"))
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendString(field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            Self.appendString(field.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `string` as a quoted JSON string.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        let hex = Self.hexDigits
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

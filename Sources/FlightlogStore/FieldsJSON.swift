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

    private static func encode(_ fields: [Event.Field], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendString(field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            Self.appendString(field.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Replaces the contents of `out` with the bytes ``encode(_:)`` returns for the fields of `entry`, read in
    /// place from its payload.
    static func encode(_ layout: EventLayout, _ entry: EventLayout.Entry, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        Self.write(layout, entry, to: &out)
    }

    /// Appends the bytes ``encode(_:)`` returns for the fields of `entry` to `out`.
    static func append(_ layout: EventLayout, _ entry: EventLayout.Entry, to out: inout [UInt8]) {
        Self.write(layout, entry, to: &out)
    }

    private static func write(_ layout: EventLayout, _ entry: EventLayout.Entry, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        layout.bytes.withUnsafeBufferPointer { all in
            for index in entry.fieldRange {
                if index > entry.firstField { out.append(UInt8(ascii: ",")) }
                let field = layout.fields[index]
                Self.appendString(
                    UnsafeBufferPointer(rebasing: all[field.key.start..<(field.key.start + field.key.count)]),
                    to: &out
                )
                out.append(UInt8(ascii: ":"))
                Self.appendString(
                    UnsafeBufferPointer(rebasing: all[field.value.start..<(field.value.start + field.value.count)]),
                    to: &out
                )
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends `string` as a quoted JSON string.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { Self.appendString($0, to: &out) }
    }

    /// Writes UTF-8 `bytes` as a quoted JSON string.
    private static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Runs of bytes that need no escape are written at once.
        var start = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            Self.appendEscape(byte, to: &out)
            start = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
        default:
            for digit in [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")] { out.append(digit) }
            out.append(Self.hexDigit(byte >> 4))
            out.append(Self.hexDigit(byte & 0xf))
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

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
        // Runs of bytes that need no escape are written at once; they are found 8 bytes at a time.
        var start = 0
        var index = 0
        let count = bytes.count
        while index < count {
            if index + 8 <= count, let base = bytes.baseAddress,
                !Self.mayNeedEscape(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            {
                index += 8
                continue
            }
            let byte = bytes[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                Self.appendEscape(byte, to: &out)
                start = index + 1
            }
            index += 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<count]))
        out.append(UInt8(ascii: "\""))
    }

    /// Whether any of 8 bytes is a control character, a quote or a backslash. Never false when one is (the tests
    /// of "some byte is zero" and "some byte is below n" are exact); may be true when none is, which only sends
    /// those bytes through the byte-by-byte check.
    @inline(__always)
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & high != 0 }
        let control = (word &- 0x20 &* ones) & ~word & high != 0
        return control || hasZeroByte(word ^ (0x22 &* ones)) || hasZeroByte(word ^ (0x5c &* ones))
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

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

    /// The most bytes ``write(_:_:to:at:)`` writes for `entry`: every byte escaped as `\u00XX`.
    package static func maxLength(_ layout: EventLayout, _ entry: EventLayout.Entry) -> Int {
        var length = 2
        for index in entry.fieldRange {
            let field = layout.fields[index]
            length += Self.maxStringLength(field.key.count) + 1 + Self.maxStringLength(field.value.count) + 1
        }
        return length
    }

    /// Writes the bytes ``encode(_:)`` returns for the fields of `entry` at `out + position`, which has room for
    /// ``maxLength(_:_:)`` bytes, and moves `position` past them. Raw writes: `verify` encodes every stored event's
    /// fields, and appending byte by byte to an array cost it more than the escaping.
    package static func write(
        _ layout: EventLayout,
        _ entry: EventLayout.Entry,
        to out: UnsafeMutablePointer<UInt8>,
        at position: inout Int
    ) {
        func put(_ byte: UInt8) {
            out[position] = byte
            position += 1
        }
        put(UInt8(ascii: "{"))
        layout.bytes.withUnsafeBufferPointer { all in
            func string(_ span: EventLayout.Span) {
                Self.writeString(
                    UnsafeBufferPointer(rebasing: all[span.start..<(span.start + span.count)]),
                    to: out,
                    at: &position
                )
            }
            for index in entry.fieldRange {
                if index > entry.firstField { put(UInt8(ascii: ",")) }
                string(layout.fields[index].key)
                put(UInt8(ascii: ":"))
                string(layout.fields[index].value)
            }
        }
        put(UInt8(ascii: "}"))
    }

    /// Appends `string` as a quoted JSON string.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { Self.appendString($0, to: &out) }
    }

    /// Appends UTF-8 `bytes` as a quoted JSON string.
    package static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxStringLength(bytes.count)) { buffer in
            guard let base = buffer.baseAddress else { return }
            var count = 0
            Self.writeString(bytes, to: base, at: &count)
            out.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
        }
    }

    /// The most bytes ``writeString(_:to:at:)`` writes for `count` bytes: quotes, and each byte as `\u00XX`.
    static func maxStringLength(_ count: Int) -> Int { 6 * count + 2 }

    /// Writes UTF-8 `bytes` as a quoted JSON string at `out + position` (room for ``maxStringLength(_:)`` bytes).
    private static func writeString(
        _ bytes: UnsafeBufferPointer<UInt8>,
        to out: UnsafeMutablePointer<UInt8>,
        at position: inout Int
    ) {
        out[position] = UInt8(ascii: "\"")
        position += 1
        // Runs of bytes that need no escape are copied at once; they are found 8 bytes at a time.
        var start = 0
        var index = 0
        let count = bytes.count
        func copyRun(to end: Int) {
            guard end > start, let base = bytes.baseAddress else { return }
            (out + position).update(from: base + start, count: end - start)
            position += end - start
        }
        while index < count {
            if index + 8 <= count, let base = bytes.baseAddress,
                !Self.mayNeedEscape(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            {
                index += 8
                continue
            }
            let byte = bytes[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                copyRun(to: index)
                Self.writeEscape(byte, to: out, at: &position)
                start = index + 1
            }
            index += 1
        }
        copyRun(to: count)
        out[position] = UInt8(ascii: "\"")
        position += 1
    }

    /// Whether any of 8 bytes is a control character, a quote or a backslash. Never false when one is (the tests
    /// of "some byte is zero" and "some byte is below n" are exact); may be true when none is, which only sends
    /// those bytes through the byte-by-byte check.
    @inlinable @inline(__always)
    package static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & high != 0 }
        let control = (word &- 0x20 &* ones) & ~word & high != 0
        return control || hasZeroByte(word ^ (0x22 &* ones)) || hasZeroByte(word ^ (0x5c &* ones))
    }

    private static func writeEscape(_ byte: UInt8, to out: UnsafeMutablePointer<UInt8>, at position: inout Int) {
        func put(_ value: UInt8) {
            out[position] = value
            position += 1
        }
        put(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): put(byte)
        case UInt8(ascii: "\n"): put(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): put(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): put(UInt8(ascii: "t"))
        default:
            put(UInt8(ascii: "u"))
            put(UInt8(ascii: "0"))
            put(UInt8(ascii: "0"))
            put(Self.hexDigit(byte >> 4))
            put(Self.hexDigit(byte & 0xf))
        }
    }
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

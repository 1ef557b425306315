public import FlightlogWire
import Foundation

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

    /// Whether `stored` is exactly what ``encode(_:)`` returns for the fields of `entry`: the verifier's check of
    /// every row's `fields` column, made while encoding, without writing the JSON anywhere.
    static func matches(_ layout: EventLayout, _ entry: EventLayout.Entry, _ stored: UnsafeRawBufferPointer) -> Bool {
        var comparison = Comparison(stored)
        Self.write(layout, entry, to: &comparison)
        return comparison.matched
    }

    private static func write<Sink: ByteSink>(_ layout: EventLayout, _ entry: EventLayout.Entry, to out: inout Sink) {
        out.write(UInt8(ascii: "{"))
        layout.bytes.withUnsafeBufferPointer { all in
            for index in entry.fieldRange {
                if index > entry.firstField { out.write(UInt8(ascii: ",")) }
                let field = layout.fields[index]
                Self.appendString(
                    UnsafeBufferPointer(rebasing: all[field.key.start..<(field.key.start + field.key.count)]),
                    to: &out
                )
                out.write(UInt8(ascii: ":"))
                Self.appendString(
                    UnsafeBufferPointer(rebasing: all[field.value.start..<(field.value.start + field.value.count)]),
                    to: &out
                )
            }
        }
        out.write(UInt8(ascii: "}"))
    }

    /// Appends `string` as a quoted JSON string.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { Self.appendString($0, to: &out) }
    }

    /// Writes UTF-8 `bytes` as a quoted JSON string.
    private static func appendString<Sink: ByteSink>(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout Sink) {
        out.write(UInt8(ascii: "\""))
        // Runs of bytes that need no escape are written at once.
        var start = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            out.write(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            Self.appendEscape(byte, to: &out)
            start = index + 1
        }
        out.write(UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
        out.write(UInt8(ascii: "\""))
    }

    private static func appendEscape<Sink: ByteSink>(_ byte: UInt8, to out: inout Sink) {
        out.write(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.write(byte)
        case UInt8(ascii: "\n"): out.write(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): out.write(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): out.write(UInt8(ascii: "t"))
        default:
            for digit in [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")] { out.write(digit) }
            out.write(Self.hexDigit(byte >> 4))
            out.write(Self.hexDigit(byte & 0xf))
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Compares the bytes written to it with the bytes it was made with, stopping at the first difference.
    private struct Comparison: ByteSink {
        let expected: UnsafeRawBufferPointer
        var position = 0
        var equal = true

        init(_ expected: UnsafeRawBufferPointer) { self.expected = expected }

        /// Every byte written matched, and every expected byte was written.
        var matched: Bool { self.equal && self.position == self.expected.count }

        mutating func write(_ byte: UInt8) {
            guard self.equal, self.position < self.expected.count, self.expected[self.position] == byte else {
                self.equal = false
                return
            }
            self.position += 1
        }

        mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard bytes.count > 0 else { return }
            guard self.equal, self.expected.count - self.position >= bytes.count,
                let base = self.expected.baseAddress, let source = bytes.baseAddress,
                memcmp(base + self.position, source, bytes.count) == 0
            else {
                self.equal = false
                return
            }
            self.position += bytes.count
        }
    }
}

/// Where ``FieldsJSON`` writes: a byte array, or a comparison with stored bytes.
private protocol ByteSink {
    mutating func write(_ byte: UInt8)
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>)
}

extension [UInt8]: ByteSink {
    fileprivate mutating func write(_ byte: UInt8) { self.append(byte) }
    fileprivate mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) { self.append(contentsOf: bytes) }
}

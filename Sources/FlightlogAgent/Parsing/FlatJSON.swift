/// A reader for the common shape of JSON log lines: one object whose keys are plain ASCII and whose values are
/// strings without escapes, integers, `true`, `false` or `null`.
///
/// It exists for speed only: `JSONSerialization` costs more than everything else the agent does with a line.
/// Anything outside that shape (escapes, control characters, fractions, exponents, nested objects or arrays,
/// duplicate keys, integers beyond 18 digits, invalid UTF-8, malformed text) makes it return nil, and the line
/// takes the `JSONSerialization` path, so every line gets exactly the fields it always got
/// (`FlatJSONTests` compares both paths).
enum FlatJSON {
    /// One top-level value.
    enum Value: Equatable {
        case string(String)
        /// An integer and its text exactly as written (which is how `JSONSerialization` writes it back).
        case integer(Int64, String)
        case bool(Bool)
        case null

        /// The value as field text, as ``LineParser/jsonText(_:)`` gives it.
        var text: String {
            switch self {
            case .string(let string): return string
            case .integer(_, let text): return text
            case .bool(let value): return value ? "true" : "false"
            case .null: return "null"
            }
        }
    }

    /// Most digits of an integer taken here; longer ones go through `JSONSerialization`.
    static let maxIntegerDigits = 18

    /// The members of the object in `bytes` in the order written, or nil when the line is not of the simple shape.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [(key: String, value: Value)]? {
        var index = 0
        var members: [(key: String, value: Value)] = []
        members.reserveCapacity(12)
        skipSpace(bytes, &index)
        guard byte(bytes, index) == UInt8(ascii: "{") else { return nil }
        index += 1
        skipSpace(bytes, &index)
        if byte(bytes, index) == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                guard let key = self.key(bytes, &index) else { return nil }
                skipSpace(bytes, &index)
                guard byte(bytes, index) == UInt8(ascii: ":") else { return nil }
                index += 1
                skipSpace(bytes, &index)
                guard let value = self.value(bytes, &index) else { return nil }
                // Which of two equal keys JSONSerialization keeps is its business: leave those lines to it.
                for member in members where member.key == key { return nil }
                members.append((key, value))
                skipSpace(bytes, &index)
                let separator = byte(bytes, index)
                index += 1
                if separator == UInt8(ascii: "}") { break }
                guard separator == UInt8(ascii: ",") else { return nil }
                skipSpace(bytes, &index)
            }
        }
        skipSpace(bytes, &index)
        guard index == bytes.count else { return nil }
        return members
    }

    /// The byte at `index`, or 0 past the end (0 is never valid where it is compared).
    @inline(__always)
    private static func byte(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> UInt8 {
        index < bytes.count ? bytes[index] : 0
    }

    /// JSON whitespace: space, tab, line feed, carriage return.
    @inline(__always)
    private static func skipSpace(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
            index += 1
        }
    }

    /// A quoted key of printable ASCII without escapes (so that comparing and sorting keys cannot depend on
    /// Unicode normalisation).
    private static func key(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> String? {
        guard byte(bytes, index) == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        index = end + 1
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    private static func value(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Value? {
        switch byte(bytes, index) {
        case UInt8(ascii: "\""):
            let start = index + 1
            var end = start
            var ascii = true
            while end < bytes.count {
                let byte = bytes[end]
                if byte == UInt8(ascii: "\"") { break }
                guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
                if byte >= 0x80 { ascii = false }
                end += 1
            }
            guard end < bytes.count else { return nil }
            index = end + 1
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if ascii { return .string(String(decoding: raw, as: UTF8.self)) }
            guard let string = String(utf8Validating: raw) else { return nil }
            return .string(string)
        case UInt8(ascii: "t"):
            return self.literal("true", .bool(true), bytes, &index)
        case UInt8(ascii: "f"):
            return self.literal("false", .bool(false), bytes, &index)
        case UInt8(ascii: "n"):
            return self.literal("null", .null, bytes, &index)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = index
            var i = index
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            let digitsStart = i
            var magnitude: Int64 = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                guard i - digitsStart < self.maxIntegerDigits else { return nil }
                magnitude = magnitude * 10 + Int64(bytes[i] &- 0x30)
                i += 1
            }
            let count = i - digitsStart
            // No digits, a leading zero ("01", "-0") or a fraction or exponent: JSONSerialization decides.
            guard count > 0, bytes[digitsStart] != UInt8(ascii: "0") || (count == 1 && !negative) else { return nil }
            let next = byte(bytes, i)
            guard next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E") else { return nil }
            index = i
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            return .integer(negative ? -magnitude : magnitude, text)
        default:
            return nil
        }
    }

    private static func literal(
        _ word: StaticString,
        _ value: Value,
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ index: inout Int
    ) -> Value? {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        let pointer = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] { return nil }
        index += count
        return value
    }
}

public import FlightlogWire

extension FieldsJSON {
    /// The fields of a `fields` JSON object of strings (what ``encode(_:)`` writes), in order, repeated keys
    /// included; nil when `json` is not such an object. What a store without SQLite's `json_each` (PostgreSQL, read
    /// in Swift) uses to look fields up the same way.
    public static func decode(_ json: String) -> [Event.Field]? {
        var json = json
        return json.withUTF8 { bytes -> [Event.Field]? in
            var parser = Parser(bytes: bytes)
            return parser.object()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func object() -> [Event.Field]? {
            var fields: [Event.Field] = []
            self.skipSpace()
            guard self.take(UInt8(ascii: "{")) else { return nil }
            self.skipSpace()
            if self.take(UInt8(ascii: "}")) { return self.atEnd() ? fields : nil }
            while true {
                self.skipSpace()
                guard let key = self.string() else { return nil }
                self.skipSpace()
                guard self.take(UInt8(ascii: ":")) else { return nil }
                self.skipSpace()
                guard let value = self.string() else { return nil }
                fields.append(Event.Field(key, value))
                self.skipSpace()
                if self.take(UInt8(ascii: ",")) { continue }
                guard self.take(UInt8(ascii: "}")) else { return nil }
                return self.atEnd() ? fields : nil
            }
        }

        mutating func atEnd() -> Bool {
            self.skipSpace()
            return self.position == self.bytes.count
        }

        mutating func skipSpace() {
            while self.position < self.bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(self.bytes[self.position]) {
                self.position += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard self.position < self.bytes.count, self.bytes[self.position] == byte else { return false }
            self.position += 1
            return true
        }

        /// A JSON string; escapes decoded, a lone surrogate as U+FFFD (as SQLite's JSON reader leaves none either).
        mutating func string() -> String? {
            guard self.take(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while self.position < self.bytes.count {
                let byte = self.bytes[self.position]
                self.position += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard self.position < self.bytes.count else { return nil }
                    let escape = self.bytes[self.position]
                    self.position += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0c)
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "r"): out.append(0x0d)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = self.hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar), self.bytes.count - self.position >= 6,
                            self.bytes[self.position] == UInt8(ascii: "\\"),
                            self.bytes[self.position + 1] == UInt8(ascii: "u")
                        {
                            let saved = self.position
                            self.position += 2
                            if let low = self.hex4(), (0xDC00..<0xE000).contains(low) {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                self.position = saved
                            }
                        }
                        out += String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8
                    default: return nil
                    }
                default: out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard self.bytes.count - self.position >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.position]
                self.position += 1
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }
    }
}

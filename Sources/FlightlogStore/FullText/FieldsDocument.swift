import FlightlogEvidence
import FlightlogWire

/// The text the full-text indexer writes into the `fields` column of `events_fts` for one event: each parsed field a
/// hunt looks up in `fields` (see ``SigmaSQLCompiler``), as `key value` on a line of its own.
///
/// That column (with `program`) lets a hunt reach the events whose `program` or parsed fields can match a condition
/// without scanning every event; the exact SQL comparison still runs on each candidate. For that to lose nothing, a field
/// with value `v` must yield the words of `key` followed by the words of `v`, exactly as `json_extract` decodes
/// them. Fields whose name maps to a column (``EventColumn``: `message`, `user`, `src_ip`, …) are left out: a rule never
/// reads them from `fields`, and `message` would index the line a second time.
enum FieldsDocument {
    /// Field names a rule reads from a column, never from `fields` (lowercased).
    static let columnNames: Set<String> = Set(EventColumn.aliases.keys)

    /// The indexed text for a `fields` JSON object, or nil when it is not a flat object of strings this decoder
    /// reads with certainty (the caller then asks SQLite's own JSON decoder, the one `json_extract` uses).
    static func text(fieldsJSON: String) -> String? {
        var out: [UInt8] = []
        var json = fieldsJSON
        guard json.withUTF8({ Self.append(fieldsJSON: $0, to: &out) }) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// ``text(fieldsJSON:)`` from the JSON's UTF-8 bytes into a reusable buffer (replacing its contents): the
    /// indexer runs it once per event, on the row's bytes in place.
    static func append(fieldsJSON bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) -> Bool {
        out.removeAll(keepingCapacity: true)
        var position = 0
        func skipSpace() {
            while position < bytes.count,
                bytes[position] == 0x20 || bytes[position] == 0x0a || bytes[position] == 0x0d
                    || bytes[position] == 0x09
            {
                position += 1
            }
        }
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else { return false }
        position += 1
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            skipSpace()
            return position == bytes.count
        }
        var key: [UInt8] = []
        var value: [UInt8] = []
        while true {
            skipSpace()
            guard Self.decodeString(bytes, &position, into: &key) else { return false }
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return false }
            position += 1
            skipSpace()
            guard Self.decodeString(bytes, &position, into: &value) else { return false }
            if !Self.isColumnName(key) {
                out.append(contentsOf: key)
                out.append(0x20)
                out.append(contentsOf: value)
                out.append(0x0a)
            }
            skipSpace()
            guard position < bytes.count else { return false }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "}") else { return false }
            position += 1
            skipSpace()
            guard position == bytes.count else { return false }
            return true
        }
    }

    /// The same text from already decoded pairs (SQLite's `json_each`), for objects ``text(fieldsJSON:)`` declines.
    static func text(pairs: [(key: String, value: String)]) -> String {
        var out = ""
        for (key, value) in pairs where !Self.isColumnName(Array(key.utf8)) {
            out += key + " " + value + "\n"
        }
        return out
    }

    /// The same text from an event's authentic fields, read in place from its payload, into a reusable buffer
    /// (replacing its contents): what `verify` expects the indexer to have written for the event.
    static func append(_ layout: EventLayout, _ entry: EventLayout.Entry, to out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        layout.bytes.withUnsafeBufferPointer { all in
            for index in entry.fieldRange {
                let field = layout.fields[index]
                let key = UnsafeBufferPointer(rebasing: all[field.key.start..<(field.key.start + field.key.count)])
                guard !Self.isColumnName(key) else { continue }
                out.append(contentsOf: key)
                out.append(0x20)
                out.append(contentsOf: all[field.value.start..<(field.value.start + field.value.count)])
                out.append(0x0a)
            }
        }
    }

    /// A name of at most 16 bytes, ASCII letters folded to lower case, packed into two words: column names compare
    /// with two integer comparisons, and nothing is allocated or reference-counted per key.
    private struct PackedName: Equatable {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count = 0

        init() {}

        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard bytes.count <= 16 else { return nil }
            self.count = bytes.count
            for index in 0..<bytes.count {
                let byte = bytes[index]
                let folded = UInt64(byte &- 0x41 < 26 ? byte | 0x20 : byte)
                if index < 8 {
                    self.low |= folded << UInt64(index * 8)
                } else {
                    self.high |= folded << UInt64((index - 8) * 8)
                }
            }
        }
    }

    /// The column names, packed, each in its own slot of a 64-slot table (empty slots have count −1): a key is
    /// looked up with one hash and one comparison. The multiplier is the first of a fixed list that puts no two
    /// names in one slot.
    private static let nameSlots: (multiplier: UInt64, slots: [PackedName]) = {
        let names = Self.columnNames.compactMap { name in Array(name.utf8).withUnsafeBufferPointer(PackedName.init) }
        var empty = PackedName()
        empty.count = -1
        var multiplier: UInt64 = 0x9e37_79b9_7f4a_7c15
        while true {
            var slots = [PackedName](repeating: empty, count: 64)
            var collided = false
            for name in names {
                let slot = Self.slot(name, multiplier)
                if slots[slot].count >= 0 { collided = true }
                slots[slot] = name
            }
            if !collided { return (multiplier, slots) }
            multiplier = multiplier &* 0x5851_f42d_4c95_7f2d &+ 0x1405_7b7e_f767_814f | 1
        }
    }()

    @inline(__always)
    private static func slot(_ name: PackedName, _ multiplier: UInt64) -> Int {
        Int(truncatingIfNeeded: ((name.low ^ (name.high &* 31) ^ UInt64(name.count)) &* multiplier) >> 58)
    }

    private static func isColumnName(_ key: [UInt8]) -> Bool {
        key.withUnsafeBufferPointer(Self.isColumnName)
    }

    /// Whether `key` is a column name, ASCII case folded.
    private static func isColumnName(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let packed = PackedName(key) else { return false }
        let table = Self.nameSlots
        return table.slots[Self.slot(packed, table.multiplier)] == packed
    }

    /// Decodes one JSON string at `position` into `out` (replacing its contents); false on anything this decoder
    /// does not read with certainty (a non-string value, an unpaired surrogate, a malformed escape).
    private static func decodeString(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ position: inout Int,
        into out: inout [UInt8]
    )
        -> Bool
    {
        out.removeAll(keepingCapacity: true)
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return false }
        position += 1
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return true
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { return false }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unit = Self.hex4(bytes, &position) else { return false }
                    // Only what FieldsJSON writes (control characters) and other single units; surrogates go to
                    // SQLite's decoder.
                    guard unit < 0xd800 || unit > 0xdfff, let scalar = Unicode.Scalar(unit) else { return false }
                    out += Array(String(Character(scalar)).utf8)
                default: return false
                }
            default:
                guard byte >= 0x20 else { return false }
                // Copy the run of plain bytes up to the next quote, backslash or control character at once; the run
                // is found 8 bytes at a time (the test FieldsJSON's writer uses for the same three kinds of byte),
                // then byte by byte. The `message` field (the line after the syslog header) is most of the bytes.
                var end = position
                if let base = bytes.baseAddress {
                    while end + 8 <= bytes.count,
                        !FieldsJSON.mayNeedEscape(UnsafeRawPointer(base + end).loadUnaligned(as: UInt64.self))
                    {
                        end += 8
                    }
                }
                while end < bytes.count, bytes[end] >= 0x20, bytes[end] != UInt8(ascii: "\""),
                    bytes[end] != UInt8(ascii: "\\")
                {
                    end += 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(position - 1)..<end]))
                position = end
            }
        }
        return false
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            position += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}

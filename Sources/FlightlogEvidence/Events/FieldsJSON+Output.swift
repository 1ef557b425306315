import FlightlogWire
import Foundation

extension FieldsJSON {
    /// Appends the stored fields object `stored` (as ``encode(_:)`` wrote it) in the form every JSON output uses: a
    /// key that occurs once keeps its string value; a key that repeats (PROTOCOL.md §6 allows it) is written once,
    /// where it first occurs, with an array of its values in order.
    ///
    /// The stored column keeps the repeated keys: `json_extract` (`--where`, Sigma) reads the first value of a key,
    /// and `verify` compares the column with the signed event byte for byte. Only the output changes, because
    /// `jq`, Python and JavaScript keep just the last of two equal keys and an investigator would silently lose the
    /// others. An object that is not the flat form ``encode(_:)`` writes (only a tampered row) is copied unchanged.
    public static func appendGroupingRepeatedKeys(_ stored: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        // Keys and values as (start, end) byte offsets, quotes included; a row holds at most 64 fields (§9).
        withUnsafeTemporaryAllocation(of: Pair.self, capacity: WireLimits.maxFieldsPerEvent) { pairs in
            guard let count = Self.pairs(stored, into: pairs), Self.repeats(stored, pairs, count) else {
                out.append(contentsOf: stored)
                return
            }
            Self.appendGrouped(stored, pairs, count, to: &out)
        }
    }

    /// ``appendGroupingRepeatedKeys(_:to:)`` of a `String`.
    public static func groupingRepeatedKeys(_ stored: String) -> String {
        var stored = stored
        var out: [UInt8] = []
        stored.withUTF8 { bytes in
            out.reserveCapacity(bytes.count + 8)
            Self.appendGroupingRepeatedKeys(bytes, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Scanning the stored form

    private struct Pair {
        var keyStart: Int
        var keyEnd: Int
        var valueStart: Int
        var valueEnd: Int
    }

    /// The end (one past the closing quote) of the JSON string starting at `start`, or nil.
    private static func stringEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    /// Fills `pairs` with the flat object's key/value offsets and returns how many; nil for anything else, and for
    /// more pairs than an event may carry (`maxFieldsPerEvent`).
    private static func pairs(_ bytes: UnsafeBufferPointer<UInt8>, into pairs: UnsafeMutableBufferPointer<Pair>) -> Int?
    {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "{"), bytes[bytes.count - 1] == UInt8(ascii: "}") else {
            return nil
        }
        var index = 1
        var count = 0
        if index == bytes.count - 1 { return 0 }
        while true {
            guard count < pairs.count, let keyEnd = Self.stringEnd(bytes, from: index), keyEnd < bytes.count,
                bytes[keyEnd] == UInt8(ascii: ":"), let valueEnd = Self.stringEnd(bytes, from: keyEnd + 1),
                valueEnd < bytes.count
            else { return nil }
            pairs[count] = Pair(keyStart: index, keyEnd: keyEnd, valueStart: keyEnd + 1, valueEnd: valueEnd)
            count += 1
            switch bytes[valueEnd] {
            case UInt8(ascii: ","): index = valueEnd + 1
            case UInt8(ascii: "}"): return valueEnd == bytes.count - 1 ? count : nil
            default: return nil
            }
        }
    }

    private static func sameKey(_ bytes: UnsafeBufferPointer<UInt8>, _ a: Pair, _ b: Pair) -> Bool {
        let length = a.keyEnd - a.keyStart
        guard length == b.keyEnd - b.keyStart, let base = bytes.baseAddress else { return false }
        return memcmp(base + a.keyStart, base + b.keyStart, length) == 0
    }

    /// Whether any key occurs twice. The encoder escapes deterministically, so equal keys have equal bytes.
    private static func repeats(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ pairs: UnsafeMutableBufferPointer<Pair>,
        _ count: Int
    )
        -> Bool
    {
        for later in 1..<max(count, 1) {
            for earlier in 0..<later where Self.sameKey(bytes, pairs[earlier], pairs[later]) { return true }
        }
        return false
    }

    private static func appendGrouped(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ pairs: UnsafeMutableBufferPointer<Pair>,
        _ count: Int,
        to out: inout [UInt8]
    ) {
        func copy(_ start: Int, _ end: Int) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
        }
        out.append(UInt8(ascii: "{"))
        var written = false
        for index in 0..<count {
            let pair = pairs[index]
            // A key already written with the first of its values.
            if (0..<index).contains(where: { Self.sameKey(bytes, pairs[$0], pair) }) { continue }
            let same = (index..<count).filter { Self.sameKey(bytes, pairs[$0], pair) }
            if written { out.append(UInt8(ascii: ",")) }
            written = true
            copy(pair.keyStart, pair.keyEnd)
            out.append(UInt8(ascii: ":"))
            if same.count == 1 {
                copy(pair.valueStart, pair.valueEnd)
                continue
            }
            out.append(UInt8(ascii: "["))
            for (position, other) in same.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                copy(pairs[other].valueStart, pairs[other].valueEnd)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }
}

package import FlightlogWire
import Foundation

extension FieldsJSON {
    /// The names an output writes its field keys with.
    public enum OutputNames: Sendable {
        /// ECS names where ``FieldSchema`` has one (`user` is written `user.name`): what every output of this
        /// release writes.
        case ecs
        /// The stored names, as the agent signed them: evidence bundles before `flightlog-evidence-bundle-4`.
        case stored
    }

    /// Appends the stored fields object `stored` (as ``encode(_:)`` wrote it) in the form every JSON output uses:
    /// keys under their ECS names (``FieldSchema``), unless `names` is `.stored`; a key that occurs once keeps its
    /// string value; a key that repeats (PROTOCOL.md §6 allows it) is written once, where it first occurs, with an
    /// array of its values in order. Keys that become equal by renaming (a JSON line's own `user.name` and a parsed
    /// `user`) count as repeats.
    ///
    /// The stored column keeps the agent's names and repeated keys: `json_extract` (`--where`, Sigma) reads the first
    /// value of a key, and `verify` compares the column with the signed event byte for byte. Only the output changes,
    /// because `jq`, Python and JavaScript keep just the last of two equal keys and an investigator would silently
    /// lose the others. An object that is not the flat form ``encode(_:)`` writes (only a tampered row) is copied
    /// unchanged.
    public static func appendForOutput(
        _ stored: UnsafeBufferPointer<UInt8>,
        names: OutputNames = .ecs,
        to out: inout [UInt8]
    ) {
        // Keys and values as (start, end) byte offsets, quotes included; a row holds at most 64 fields (§9).
        withUnsafeTemporaryAllocation(of: Pair.self, capacity: WireLimits.maxFieldsPerEvent) { pairs in
            guard let count = Self.pairs(stored, into: pairs) else {
                out.append(contentsOf: stored)
                return
            }
            var renames = false
            if names == .ecs {
                for index in 0..<count {
                    let pair = pairs[index]
                    pairs[index].renamed =
                        FieldSchema.renamedIndex(
                            UnsafeBufferPointer(rebasing: stored[(pair.keyStart + 1)..<(pair.keyEnd - 1)])
                        )
                        ?? -1
                    renames = renames || pairs[index].renamed >= 0
                }
            }
            let repeats = Self.repeats(stored, pairs, count)
            if repeats {
                Self.appendGrouped(stored, pairs, count, to: &out)
            } else if renames {
                Self.appendRenamed(stored, pairs, count, to: &out)
            } else {
                out.append(contentsOf: stored)
            }
        }
    }

    /// ``appendForOutput(_:names:to:)`` of the fields of `entry`, written from its batch's spans with no stored form in
    /// between (the export's hot path): the same bytes. Returns false, with nothing appended, when a key repeats
    /// (rare: ``appendForOutput(_:names:to:)`` groups them) or there are more fields than an event may carry.
    package static func appendForOutput(
        _ layout: EventLayout,
        _ entry: EventLayout.Entry,
        names: OutputNames = .ecs,
        to out: inout [UInt8]
    ) -> Bool {
        let count = entry.fieldRange.count
        guard count <= WireLimits.maxFieldsPerEvent else { return false }
        return layout.bytes.withUnsafeBufferPointer { all in
            func bytes(_ span: EventLayout.Span) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: all[span.start..<(span.start + span.count)])
            }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: max(count, 1)) { renamed in
                for (position, index) in entry.fieldRange.enumerated() {
                    renamed[position] =
                        names == .ecs ? FieldSchema.renamedIndex(bytes(layout.fields[index].key)) ?? -1 : -1
                }
                func same(_ a: Int, _ b: Int) -> Bool {
                    let keys = (layout.fields[entry.firstField + a].key, layout.fields[entry.firstField + b].key)
                    return Self.sameKey(renamed[a], bytes(keys.0), renamed[b], bytes(keys.1))
                }
                for later in 1..<max(count, 1) {
                    for earlier in 0..<later where same(earlier, later) { return false }
                }
                out.append(UInt8(ascii: "{"))
                for (position, index) in entry.fieldRange.enumerated() {
                    if position > 0 { out.append(UInt8(ascii: ",")) }
                    if renamed[position] >= 0 {
                        out.append(UInt8(ascii: "\""))
                        out.append(contentsOf: FieldSchema.renamed[renamed[position]].ecs)
                        out.append(UInt8(ascii: "\""))
                    } else {
                        Self.appendString(bytes(layout.fields[index].key), to: &out)
                    }
                    out.append(UInt8(ascii: ":"))
                    Self.appendString(bytes(layout.fields[index].value), to: &out)
                }
                out.append(UInt8(ascii: "}"))
                return true
            }
        }
    }

    /// ``appendForOutput(_:names:to:)`` of a `String`.
    public static func forOutput(_ stored: String, names: OutputNames = .ecs) -> String {
        var stored = stored
        var out: [UInt8] = []
        stored.withUTF8 { bytes in
            out.reserveCapacity(bytes.count + 32)
            Self.appendForOutput(bytes, names: names, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Scanning the stored form

    private struct Pair {
        var keyStart: Int
        var keyEnd: Int
        var valueStart: Int
        var valueEnd: Int
        /// The key's index in ``FieldSchema/renamed`` when output writes it under its ECS name, else -1.
        var renamed = -1
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

    /// Whether `a` and `b` are written with the same key (after renaming).
    private static func sameKey(_ bytes: UnsafeBufferPointer<UInt8>, _ a: Pair, _ b: Pair) -> Bool {
        func key(_ pair: Pair) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[(pair.keyStart + 1)..<(pair.keyEnd - 1)])
        }
        return Self.sameKey(a.renamed, key(a), b.renamed, key(b))
    }

    /// Whether two keys, each its index in ``FieldSchema/renamed`` (or -1) and its bytes (escaped as stored, or not
    /// at all: the encoder escapes deterministically, and no ECS name holds a byte it escapes), are written the same
    /// after renaming: both renamed to the same name, one the ECS name the other is renamed to, or equal bytes.
    private static func sameKey(
        _ renamedA: Int,
        _ keyA: UnsafeBufferPointer<UInt8>,
        _ renamedB: Int,
        _ keyB: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        switch (renamedA >= 0, renamedB >= 0) {
        case (true, true): return renamedA == renamedB
        case (true, false): return FieldSchema.renamed[renamedA].ecs.withUnsafeBufferPointer { $0.elementsEqual(keyB) }
        case (false, true): return FieldSchema.renamed[renamedB].ecs.withUnsafeBufferPointer { $0.elementsEqual(keyA) }
        case (false, false):
            guard keyA.count == keyB.count, let baseA = keyA.baseAddress, let baseB = keyB.baseAddress else {
                return keyA.count == keyB.count
            }
            return memcmp(baseA, baseB, keyA.count) == 0
        }
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

    /// Appends the key of `pair`, quotes included: its ECS name, or its stored bytes.
    private static func appendKey(_ bytes: UnsafeBufferPointer<UInt8>, _ pair: Pair, to out: inout [UInt8]) {
        if pair.renamed >= 0 {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: FieldSchema.renamed[pair.renamed].ecs)
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[pair.keyStart..<pair.keyEnd]))
        }
    }

    /// The object with its keys renamed, when no key repeats (most rows): each pair in order.
    private static func appendRenamed(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ pairs: UnsafeMutableBufferPointer<Pair>,
        _ count: Int,
        to out: inout [UInt8]
    ) {
        out.append(UInt8(ascii: "{"))
        for index in 0..<count {
            let pair = pairs[index]
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendKey(bytes, pair, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[pair.valueStart..<pair.valueEnd]))
        }
        out.append(UInt8(ascii: "}"))
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
            Self.appendKey(bytes, pair, to: &out)
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

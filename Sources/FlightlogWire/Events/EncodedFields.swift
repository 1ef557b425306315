/// The fields of one event already in their wire form (PROTOCOL.md §6): `f × { key length (u8), key, value length
/// (u16, big-endian), value }`, with `count` = f.
///
/// The agent's parsers write into this, so that a batch is built by copying each event's fields as one block instead
/// of making a `String` per value, holding `[Event.Field]` until the batch is cut, and walking them again to size,
/// check and encode them (about a sixth of the agent's CPU on a mixed corpus before).
///
/// Every value appended is within ``WireLimits`` by construction: at most ``WireLimits/maxFieldsPerEvent`` fields,
/// keys cut to ``WireLimits/maxFieldKeyLength`` bytes, values cut to
/// ``WireLimits/maxFieldValueLength`` bytes, both on a character boundary, and all of it valid UTF-8.
public struct EncodedFields: Hashable, Sendable {
    /// The wire bytes of the fields, in order.
    public private(set) var bytes: [UInt8] = []
    /// How many fields `bytes` holds.
    public private(set) var count = 0

    /// No fields, with room for `capacity` bytes.
    public init(reservingCapacity capacity: Int = 0) {
        if capacity > 0 { self.bytes.reserveCapacity(capacity) }
    }

    /// The wire form of `fields`, as far as they fit (the first ``WireLimits/maxFieldsPerEvent``, each cut as
    /// ``append(_:_:)`` cuts).
    public init(_ fields: [Event.Field]) {
        for field in fields { self.append(field.key, field.value) }
    }

    /// Whether no further field can be added.
    public var isFull: Bool { self.count >= WireLimits.maxFieldsPerEvent }

    public var isEmpty: Bool { self.count == 0 }

    /// Appends a field unless the list is full; an over-long key or value is cut on a character boundary.
    public mutating func append(_ key: String, _ value: String) {
        guard !self.isFull else { return }
        guard key.utf8.count <= WireLimits.maxFieldKeyLength, value.utf8.count <= WireLimits.maxFieldValueLength
        else {
            self.appendChecked(
                key.truncatedToUTF8Length(WireLimits.maxFieldKeyLength),
                value.truncatedToUTF8Length(WireLimits.maxFieldValueLength)
            )
            return
        }
        self.appendChecked(key, value)
    }

    /// Appends a field whose value is `value`, bytes the caller has checked are valid UTF-8 (the parsers' values are
    /// slices of the line): no `String` is made unless the value must be cut.
    public mutating func append(_ key: String, validUTF8 value: UnsafeBufferPointer<UInt8>) {
        guard !self.isFull else { return }
        guard key.utf8.count <= WireLimits.maxFieldKeyLength, value.count <= WireLimits.maxFieldValueLength else {
            self.append(key, String(decoding: value, as: UTF8.self))
            return
        }
        self.appendKey(key)
        self.appendLength(value.count)
        self.bytes.append(contentsOf: value)
        self.count += 1
    }

    /// Whether a field is named `key`.
    public func contains(key: String) -> Bool {
        var found = false
        self.forEachField { fieldKey, _ in
            if !found, fieldKey.elementsEqual(key.utf8) { found = true }
        }
        return found
    }

    /// The fields as values.
    public var fields: [Event.Field] {
        var fields: [Event.Field] = []
        fields.reserveCapacity(self.count)
        self.forEachField { key, value in
            fields.append(
                Event.Field(String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self))
            )
        }
        return fields
    }

    /// Calls `body` with each field's key and value bytes, in order.
    public func forEachField(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void) {
        self.bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            for _ in 0..<self.count {
                let keyLength = Int(buffer[index])
                let key = UnsafeBufferPointer(rebasing: buffer[(index + 1)..<(index + 1 + keyLength)])
                index += 1 + keyLength
                let valueLength = Int(buffer[index]) << 8 | Int(buffer[index + 1])
                let value = UnsafeBufferPointer(rebasing: buffer[(index + 2)..<(index + 2 + valueLength)])
                index += 2 + valueLength
                body(key, value)
            }
        }
    }

    /// Key and value within the limits.
    private mutating func appendChecked(_ key: String, _ value: String) {
        Self.appendField(key, value, to: &self.bytes)
        self.count += 1
    }

    /// One field's wire form (key and value within the limits), also what ``PayloadBuilder`` writes for an `Event`.
    static func appendField(_ key: String, _ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: key.utf8.count))
        Self.append(key, to: &bytes)
        let length = value.utf8.count
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        Self.append(value, to: &bytes)
    }

    private mutating func appendKey(_ key: String) {
        self.bytes.append(UInt8(truncatingIfNeeded: key.utf8.count))
        Self.append(key, to: &self.bytes)
    }

    private mutating func appendLength(_ length: Int) {
        self.bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        self.bytes.append(UInt8(truncatingIfNeeded: length))
    }

    @inline(__always)
    static func append(_ string: String, to bytes: inout [UInt8]) {
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
        if copied == nil { bytes.append(contentsOf: string.utf8) }
    }
}

import FlightlogWire

/// Fields being collected for one line, written in their wire form (``EncodedFields``) and kept within
/// ``WireLimits`` as they are added: a value cut from the line is copied as bytes, without a `String`.
struct FieldList {
    private(set) var encoded: EncodedFields

    init() {
        // An sshd login line has ten fields of ~12 bytes each, an audit record often more.
        self.encoded = EncodedFields(reservingCapacity: 256)
    }

    var isFull: Bool { self.encoded.isFull }

    /// How many fields the list holds.
    var count: Int { self.encoded.count }

    func contains(_ key: String) -> Bool {
        self.encoded.contains(key: key)
    }

    /// Adds a field unless the list is full or the key is empty; over-long keys and values are cut on a
    /// character boundary.
    mutating func add(_ key: String, _ value: String) {
        guard !key.isEmpty else { return }
        self.encoded.append(key, value)
    }

    mutating func add<S: StringProtocol>(_ key: String, _ value: S) {
        self.add(key, String(value))
    }

    /// The same as the generic `add` for the parsers' usual value, copied from its string's bytes.
    mutating func add(_ key: String, _ value: Substring) {
        guard !key.isEmpty else { return }
        let copied: Void? = value.utf8.withContiguousStorageIfAvailable { self.encoded.append(key, validUTF8: $0) }
        if copied == nil { self.add(key, String(value)) }
    }

    /// Adds the field only if no field with that key exists yet.
    mutating func addIfAbsent<S: StringProtocol>(_ key: String, _ value: S) {
        guard !self.contains(key) else { return }
        self.add(key, String(value))
    }

    /// Adds `bytes` as a value if they are valid UTF-8; otherwise nothing.
    mutating func add(_ key: String, utf8 bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { self.add(key, utf8: $0) }
    }

    /// Adds `bytes` as a value if they are valid UTF-8; otherwise nothing.
    mutating func add(_ key: String, utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard !key.isEmpty, UTF8Text.isValid(bytes) else { return }
        self.encoded.append(key, validUTF8: bytes)
    }
}

extension String {
    /// The bytes as a string if they are valid UTF-8, like `String(validating:as:)`, with a quick path for ASCII
    /// (most log text), which is always valid.
    init?(utf8Validating bytes: UnsafeBufferPointer<UInt8>) {
        if UTF8Text.isASCII(bytes) {
            self = String(decoding: bytes, as: UTF8.self)
        } else if let string = String(validating: bytes, as: UTF8.self) {
            self = string
        } else {
            return nil
        }
    }
}

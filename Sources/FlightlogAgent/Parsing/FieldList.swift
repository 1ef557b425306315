import FlightlogWire

/// Fields being collected for one line, kept within ``WireLimits`` as they are added.
struct FieldList {
    private(set) var fields: [Event.Field] = []

    init() {
        // An sshd login line has ten fields, an audit record often more: growing from 8 copied the list for most of
        // the auth lines.
        self.fields.reserveCapacity(16)
    }

    var isFull: Bool { self.fields.count >= WireLimits.maxFieldsPerEvent }

    func contains(_ key: String) -> Bool {
        self.fields.contains { $0.key == key }
    }

    /// Adds a field unless the list is full or the key is empty; over-long keys and values are cut on a
    /// character boundary.
    mutating func add(_ key: String, _ value: String) {
        guard !self.isFull, !key.isEmpty else { return }
        // Nearly every key and value is within the limits: no call into the cutting code for them.
        if key.utf8.count <= WireLimits.maxFieldKeyLength, value.utf8.count <= WireLimits.maxFieldValueLength {
            self.fields.append(Event.Field(key, value))
            return
        }
        self.fields.append(
            Event.Field(
                key.truncatedToUTF8Length(WireLimits.maxFieldKeyLength),
                value.truncatedToUTF8Length(WireLimits.maxFieldValueLength)
            )
        )
    }

    mutating func add<S: StringProtocol>(_ key: String, _ value: S) {
        self.add(key, String(value))
    }

    /// The same as the generic `add` for the parsers' usual value, without the generic String initialiser.
    mutating func add(_ key: String, _ value: Substring) {
        self.add(key, String(value))
    }

    /// Adds the field only if no field with that key exists yet.
    mutating func addIfAbsent<S: StringProtocol>(_ key: String, _ value: S) {
        guard !self.contains(key) else { return }
        self.add(key, String(value))
    }

    /// Adds `bytes` as a value if they are valid UTF-8; otherwise nothing.
    mutating func add(_ key: String, utf8 bytes: ArraySlice<UInt8>) {
        guard let value = bytes.withUnsafeBufferPointer(String.init(utf8Validating:)) else { return }
        self.add(key, value)
    }
}

extension String {
    /// The bytes as a string if they are valid UTF-8, like `String(validating:as:)`, with a quick path for ASCII
    /// (most log text), which is always valid.
    init?(utf8Validating bytes: UnsafeBufferPointer<UInt8>) {
        var index = 0
        let count = bytes.count
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= count {
                if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            while index < count, base[index] < 0x80 { index += 1 }
        }
        if index == count {
            self = String(decoding: bytes, as: UTF8.self)
        } else if let string = String(validating: bytes, as: UTF8.self) {
            self = string
        } else {
            return nil
        }
    }
}

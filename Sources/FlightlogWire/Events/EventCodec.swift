public import NIOCore

/// Encodes and decodes the concatenated events of a batch payload (PROTOCOL.md §6).
public enum EventCodec {
    /// Checks that `event` fits every limit, so that encoding cannot produce bytes a receiver refuses.
    public static func validate(_ event: Event) throws(WireError) {
        guard Event.Flags.known.isSuperset(of: event.flags) else {
            throw WireError.invalidValue(what: "event flags", value: Int(event.flags.rawValue))
        }
        try checkLength("event host", event.host.utf8.count, limit: WireLimits.maxHostLength)
        try checkLength("event source", event.source.utf8.count, limit: WireLimits.maxSourceLength)
        try checkLength("event line", event.line.count, limit: WireLimits.maxLineLength)
        try checkLength("event field count", event.fields.count, limit: WireLimits.maxFieldsPerEvent)
        for field in event.fields {
            try checkLength("field key", field.key.utf8.count, limit: WireLimits.maxFieldKeyLength)
            try checkLength("field value", field.value.utf8.count, limit: WireLimits.maxFieldValueLength)
        }
    }

    /// The encoded size of `event` in bytes.
    public static func encodedSize(_ event: Event) -> Int {
        var size = 8 + 8 + 1 + 1 + event.host.utf8.count + 2 + event.source.utf8.count + 4 + event.line.count + 1
        for field in event.fields {
            size += 1 + field.key.utf8.count + 2 + field.value.utf8.count
        }
        return size
    }

    /// Appends `event`; it must have passed ``validate(_:)``.
    public static func write(_ event: Event, to buffer: inout ByteBuffer) {
        buffer.writeInteger(event.timeNanos, endianness: .big)
        buffer.writeInteger(event.observedNanos, endianness: .big)
        buffer.writeInteger(event.flags.rawValue)
        buffer.writeWireString(event.host, prefix: UInt8.self)
        buffer.writeWireString(event.source, prefix: UInt16.self)
        buffer.writeInteger(UInt32(event.line.count), endianness: .big)
        buffer.writeBytes(event.line)
        buffer.writeInteger(UInt8(event.fields.count))
        for field in event.fields {
            buffer.writeWireString(field.key, prefix: UInt8.self)
            buffer.writeWireString(field.value, prefix: UInt16.self)
        }
    }

    /// Encodes `events` as one payload.
    ///
    /// The bytes are exactly those ``write(_:to:)`` appends for each event in turn; they are written straight into
    /// the result (no `ByteBuffer`, no second copy) because the agent encodes every line it reads.
    public static func encode(_ events: [Event]) throws(WireError) -> [UInt8] {
        try checkLength("batch event count", events.count, limit: WireLimits.maxEventsPerBatch)
        var size = 0
        for event in events {
            try Self.validate(event)
            size += Self.encodedSize(event)
        }
        try checkLength("batch payload", size, limit: WireLimits.maxUncompressedBatchLength)
        var complete = false
        let payload = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = RawWriter(buffer)
            for index in events.indices {
                writer.write(events[index])
            }
            complete = !writer.overflowed && writer.count == size
            initialized = writer.count
        }
        if complete { return payload }
        // Never expected (the size above is exact): the slower path cannot disagree with itself.
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size)
        for event in events {
            Self.write(event, to: &buffer)
        }
        return Array(buffer.readableBytesView)
    }

    /// Writes the wire form of events into preallocated memory, refusing to pass its end.
    struct RawWriter {
        private let base: UnsafeMutablePointer<UInt8>?
        private let capacity: Int
        private(set) var count = 0
        private(set) var overflowed = false

        init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
            self.base = buffer.baseAddress
            self.capacity = buffer.count
        }

        mutating func write(_ event: Event) {
            self.integer(UInt64(bitPattern: event.timeNanos), size: 8)
            self.integer(UInt64(bitPattern: event.observedNanos), size: 8)
            self.integer(UInt64(event.flags.rawValue), size: 1)
            self.string(event.host, prefixSize: 1)
            self.string(event.source, prefixSize: 2)
            self.integer(UInt64(event.line.count), size: 4)
            event.line.withUnsafeBufferPointer { self.bytes($0) }
            self.integer(UInt64(event.fields.count), size: 1)
            for index in event.fields.indices {
                self.string(event.fields[index].key, prefixSize: 1)
                self.string(event.fields[index].value, prefixSize: 2)
            }
        }

        /// The low `size` bytes of `value`, big-endian.
        @inline(__always)
        private mutating func integer(_ value: UInt64, size: Int) {
            guard let base = self.base, self.count + size <= self.capacity else {
                self.overflowed = true
                return
            }
            var shift = (size - 1) * 8
            for offset in 0..<size {
                base[self.count + offset] = UInt8(truncatingIfNeeded: value >> UInt64(shift))
                shift -= 8
            }
            self.count += size
        }

        @inline(__always)
        private mutating func bytes(_ source: UnsafeBufferPointer<UInt8>) {
            guard source.count > 0 else { return }
            guard let base = self.base, let from = source.baseAddress, self.count + source.count <= self.capacity
            else {
                self.overflowed = true
                return
            }
            (base + self.count).update(from: from, count: source.count)
            self.count += source.count
        }

        /// A string with a length prefix of `prefixSize` bytes (the caller checked that the length fits).
        @inline(__always)
        private mutating func string(_ string: String, prefixSize: Int) {
            let utf8 = string.utf8
            self.integer(UInt64(utf8.count), size: prefixSize)
            let copied: Void? = utf8.withContiguousStorageIfAvailable { self.bytes($0) }
            if copied == nil {
                let bytes = Array(utf8)
                bytes.withUnsafeBufferPointer { self.bytes($0) }
            }
        }
    }

    /// Decodes exactly `count` events that must fill `payload` completely.
    public static func decode(_ payload: [UInt8], count: Int) throws(WireError) -> [Event] {
        try EventLayout(payload, count: count).events()
    }
}

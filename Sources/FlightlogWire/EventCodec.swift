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
        try checkLength("batch event count", count, limit: WireLimits.maxEventsPerBatch)
        var buffer = ByteBuffer(bytes: payload)
        var events: [Event] = []
        // Each event takes at least 23 bytes, so a lying count cannot make this reserve more than the payload allows.
        events.reserveCapacity(min(count, payload.count / 23))
        var lastHost = ""
        var lastSource = ""
        for index in 0..<count {
            events.append(try Self.read(from: &buffer, index: index, lastHost: &lastHost, lastSource: &lastSource))
        }
        guard buffer.readableBytes == 0 else {
            throw WireError.trailingBytes(what: "batch payload", count: buffer.readableBytes)
        }
        return events
    }

    private static func read(
        from buffer: inout ByteBuffer,
        index: Int,
        lastHost: inout String,
        lastSource: inout String
    ) throws(WireError) -> Event {
        let time = try buffer.readWireInteger("event \(index) time", as: Int64.self)
        let observed = try buffer.readWireInteger("event \(index) observed time", as: Int64.self)
        let flagsByte = try buffer.readWireInteger("event \(index) flags", as: UInt8.self)
        let flags = Event.Flags(rawValue: flagsByte)
        guard Event.Flags.known.isSuperset(of: flags) else {
            throw WireError.invalidValue(what: "event \(index) flags", value: Int(flagsByte))
        }
        let host = try Self.readRepeatedString(
            &buffer,
            prefix: UInt8.self,
            limit: WireLimits.maxHostLength,
            last: &lastHost,
            "event \(index) host"
        )
        let source = try Self.readRepeatedString(
            &buffer,
            prefix: UInt16.self,
            limit: WireLimits.maxSourceLength,
            last: &lastSource,
            "event \(index) source"
        )
        let lineLength = Int(try buffer.readWireInteger("event \(index) line length", as: UInt32.self))
        try checkLength("event \(index) line", lineLength, limit: WireLimits.maxLineLength)
        let line = try buffer.readWireBytes(lineLength, "event \(index) line")
        let fieldCount = Int(try buffer.readWireInteger("event \(index) field count", as: UInt8.self))
        try checkLength("event \(index) field count", fieldCount, limit: WireLimits.maxFieldsPerEvent)
        var fields: [Event.Field] = []
        fields.reserveCapacity(fieldCount)
        for _ in 0..<fieldCount {
            let key = try buffer.readWireString(
                "event \(index) field key",
                prefix: UInt8.self,
                limit: WireLimits.maxFieldKeyLength
            )
            let value = try buffer.readWireString(
                "event \(index) field value",
                prefix: UInt16.self,
                limit: WireLimits.maxFieldValueLength
            )
            fields.append(Event.Field(key, value))
        }
        return Event(
            timeNanos: time,
            observedNanos: observed,
            flags: flags,
            host: host,
            source: source,
            line: line,
            fields: fields
        )
    }

    /// Hosts and sources repeat from event to event; reusing the previous string saves a validation and an allocation.
    private static func readRepeatedString<Prefix: FixedWidthInteger>(
        _ buffer: inout ByteBuffer,
        prefix: Prefix.Type,
        limit: Int,
        last: inout String,
        _ what: @autoclosure () -> String
    ) throws(WireError) -> String {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Prefix.self) else {
            throw WireError.truncated(what: what())
        }
        let count = Int(length)
        let size = MemoryLayout<Prefix>.size
        if count == last.utf8.count, count <= buffer.readableBytes - size,
            let view = buffer.viewBytes(at: buffer.readerIndex + size, length: count),
            view.elementsEqual(last.utf8)
        {
            buffer.moveReaderIndex(forwardBy: size + count)
            return last
        }
        let string = try buffer.readWireString(what(), prefix: Prefix.self, limit: limit)
        last = string
        return string
    }
}

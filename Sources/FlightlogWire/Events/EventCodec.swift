public import NIOCore

/// Encodes and decodes the concatenated events of a batch payload (PROTOCOL.md §6).
public enum EventCodec {
    /// Checks that `event` fits every limit, so that encoding cannot produce bytes a receiver refuses.
    public static func validate(_ event: Event) throws(WireError) {
        try Self.validate(flags: event.flags, host: event.host, source: event.source, lineLength: event.line.count)
        try checkLength("event field count", event.fields.count, limit: WireLimits.maxFieldsPerEvent)
        for field in event.fields {
            try checkLength("field key", field.key.utf8.count, limit: WireLimits.maxFieldKeyLength)
            try checkLength("field value", field.value.utf8.count, limit: WireLimits.maxFieldValueLength)
        }
    }

    /// Checks an event's flags, host, source and line length against their limits.
    static func validate(flags: Event.Flags, host: String, source: String, lineLength: Int) throws(WireError) {
        guard Event.Flags.known.isSuperset(of: flags) else {
            throw WireError.invalidValue(what: "event flags", value: Int(flags.rawValue))
        }
        try checkLength("event host", host.utf8.count, limit: WireLimits.maxHostLength)
        try checkLength("event source", source.utf8.count, limit: WireLimits.maxSourceLength)
        try checkLength("event line", lineLength, limit: WireLimits.maxLineLength)
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

    /// Encodes `events` as one payload: the bytes ``write(_:to:)`` appends for each event in turn.
    public static func encode(_ events: [Event]) throws(WireError) -> [UInt8] {
        try checkLength("batch event count", events.count, limit: WireLimits.maxEventsPerBatch)
        var size = 0
        for event in events { size += Self.encodedSize(event) }
        var payload = PayloadBuilder(reservingCapacity: size)
        for event in events { try payload.append(event) }
        try checkLength("batch payload", payload.bytes.count, limit: WireLimits.maxUncompressedBatchLength)
        return payload.bytes
    }

    /// Decodes exactly `count` events that must fill `payload` completely.
    public static func decode(_ payload: [UInt8], count: Int) throws(WireError) -> [Event] {
        try EventLayout(payload, count: count).events()
    }
}

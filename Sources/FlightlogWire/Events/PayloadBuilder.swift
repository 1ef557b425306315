/// A batch payload (PROTOCOL.md §6) built one event at a time: the agent encodes each line as it reads it, so a batch
/// holds its bytes, not `Event` values, until it is cut.
public struct PayloadBuilder: Sendable {
    /// The payload so far.
    public private(set) var bytes: [UInt8] = []
    /// How many events it holds.
    public private(set) var eventCount = 0
    /// The smallest and largest event time, or `Int64.max` and `Int64.min` while empty.
    public private(set) var firstEventNanos = Int64.max
    public private(set) var lastEventNanos = Int64.min

    public init(reservingCapacity capacity: Int = 0) {
        if capacity > 0 { self.bytes.reserveCapacity(capacity) }
    }

    public var isEmpty: Bool { self.eventCount == 0 }

    /// Appends `event` after checking it against every limit (``EventCodec/validate(_:)``).
    public mutating func append(_ event: Event) throws(WireError) {
        try EventCodec.validate(event)
        try event.line.withUnsafeBufferPointer { (line) throws(WireError) in
            try self.appendHeader(
                timeNanos: event.timeNanos,
                observedNanos: event.observedNanos,
                flags: event.flags,
                host: event.host,
                source: event.source,
                line: line
            )
        }
        self.bytes.append(UInt8(truncatingIfNeeded: event.fields.count))
        for field in event.fields { EncodedFields.appendField(field.key, field.value, to: &self.bytes) }
        self.note(event.timeNanos)
    }

    /// Appends an event whose fields are already encoded (within the limits by construction); host, source and line
    /// are checked against theirs.
    public mutating func append(
        timeNanos: Int64,
        observedNanos: Int64,
        flags: Event.Flags,
        host: String,
        source: String,
        line: UnsafeBufferPointer<UInt8>,
        fields: EncodedFields
    ) throws(WireError) {
        try EventCodec.validate(flags: flags, host: host, source: source, lineLength: line.count)
        try self.appendHeader(
            timeNanos: timeNanos,
            observedNanos: observedNanos,
            flags: flags,
            host: host,
            source: source,
            line: line
        )
        self.bytes.append(UInt8(truncatingIfNeeded: fields.count))
        self.bytes.append(contentsOf: fields.bytes)
        self.note(timeNanos)
    }

    /// Empties the payload, keeping its memory for the next batch.
    public mutating func removeAll() {
        self.bytes.removeAll(keepingCapacity: true)
        self.eventCount = 0
        self.firstEventNanos = .max
        self.lastEventNanos = .min
    }

    /// Everything before the field count; the caller checked the lengths.
    private mutating func appendHeader(
        timeNanos: Int64,
        observedNanos: Int64,
        flags: Event.Flags,
        host: String,
        source: String,
        line: UnsafeBufferPointer<UInt8>
    ) throws(WireError) {
        try checkLength("batch event count", self.eventCount + 1, limit: WireLimits.maxEventsPerBatch)
        self.appendInteger(UInt64(bitPattern: timeNanos), size: 8)
        self.appendInteger(UInt64(bitPattern: observedNanos), size: 8)
        self.bytes.append(flags.rawValue)
        self.bytes.append(UInt8(truncatingIfNeeded: host.utf8.count))
        EncodedFields.append(host, to: &self.bytes)
        self.appendInteger(UInt64(source.utf8.count), size: 2)
        EncodedFields.append(source, to: &self.bytes)
        self.appendInteger(UInt64(line.count), size: 4)
        self.bytes.append(contentsOf: line)
    }

    private mutating func note(_ timeNanos: Int64) {
        self.eventCount += 1
        self.firstEventNanos = min(self.firstEventNanos, timeNanos)
        self.lastEventNanos = max(self.lastEventNanos, timeNanos)
    }

    /// The low `size` bytes of `value`, big-endian.
    @inline(__always)
    private mutating func appendInteger(_ value: UInt64, size: Int) {
        // Through an UnsafeBufferPointer: appending the raw slice went through the generic, byte-by-byte path.
        withUnsafeBytes(of: value.bigEndian) { raw in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(8 - size)...]))
        }
    }
}

/// The events of a batch payload located in place: where each event's values lie in the payload bytes, checked
/// exactly as ``EventCodec/decode(_:count:)`` checks them, without building a `String` per value.
///
/// `decode` is built on it, so the two cannot disagree. `flightlog verify` compares millions of stored rows with
/// their authentic events byte for byte and reads them from here directly: no string allocation, no reference
/// counting per value.
public struct EventLayout: Sendable {
    /// A run of payload bytes.
    public struct Span: Sendable, Equatable {
        public var start: Int
        public var count: Int
    }

    /// One event: its fixed-size values and where its variable-size ones lie.
    public struct Entry: Sendable {
        public var timeNanos: Int64
        public var observedNanos: Int64
        public var flags: Event.Flags
        public var host: Span
        public var source: Span
        public var line: Span
        /// The event's fields are `fields[firstField ..< firstField + fieldCount]`.
        public var firstField: Int
        public var fieldCount: Int

        public var fieldRange: Range<Int> { self.firstField..<(self.firstField + self.fieldCount) }
    }

    /// One field: its key and value, both valid UTF-8.
    public struct Field: Sendable {
        public var key: Span
        public var value: Span
    }

    /// The payload the spans point into.
    public let bytes: [UInt8]
    public private(set) var entries: [Entry] = []
    /// Every event's fields, in order.
    public private(set) var fields: [Field] = []

    /// Locates exactly `count` events that must fill `payload` completely; throws what ``EventCodec/decode(_:count:)``
    /// throws for the same bytes.
    public init(_ payload: [UInt8], count: Int) throws(WireError) {
        try checkLength("batch event count", count, limit: WireLimits.maxEventsPerBatch)
        self.bytes = payload
        var entries: [Entry] = []
        // Each event takes at least 23 bytes, so a lying count cannot make this reserve more than the payload allows.
        entries.reserveCapacity(min(count, payload.count / 23))
        var fields: [Field] = []
        try payload.withUnsafeBufferPointer { (bytes) throws(WireError) in
            var reader = Reader(bytes: bytes)
            for index in 0..<count {
                entries.append(try reader.event(index: index, fields: &fields))
            }
            guard reader.remaining == 0 else {
                throw WireError.trailingBytes(what: "batch payload", count: reader.remaining)
            }
        }
        self.entries = entries
        self.fields = fields
    }

    /// Calls `body` with the bytes of `span`.
    @inlinable
    public func withBytes<R>(_ span: Span, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try self.bytes.withUnsafeBufferPointer { all in
            try body(UnsafeBufferPointer(rebasing: all[span.start..<(span.start + span.count)]))
        }
    }

    /// The text of `span` (valid UTF-8: the layout checked it).
    public func string(_ span: Span) -> String {
        self.withBytes(span) { String(decoding: $0, as: UTF8.self) }
    }

    /// The events, as ``EventCodec/decode(_:count:)`` returns them.
    public func events() -> [Event] {
        var events: [Event] = []
        events.reserveCapacity(self.entries.count)
        // Hosts and sources repeat from event to event: equal bytes reuse the previous string.
        var lastHost: (span: Span, string: String)?
        var lastSource: (span: Span, string: String)?
        func text(_ span: Span, _ last: inout (span: Span, string: String)?) -> String {
            if let previous = last, self.sameBytes(previous.span, span) { return previous.string }
            let string = self.string(span)
            last = (span, string)
            return string
        }
        for entry in self.entries {
            events.append(
                Event(
                    timeNanos: entry.timeNanos,
                    observedNanos: entry.observedNanos,
                    flags: entry.flags,
                    host: text(entry.host, &lastHost),
                    source: text(entry.source, &lastSource),
                    line: Array(self.bytes[entry.line.start..<(entry.line.start + entry.line.count)]),
                    fields: self.fields[entry.fieldRange].map {
                        Event.Field(self.string($0.key), self.string($0.value))
                    }
                )
            )
        }
        return events
    }

    /// Whether two spans hold the same bytes.
    public func sameBytes(_ a: Span, _ b: Span) -> Bool {
        guard a.count == b.count else { return false }
        if a.start == b.start || a.count == 0 { return true }
        return self.bytes.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return false }
            for offset in 0..<a.count where base[a.start + offset] != base[b.start + offset] { return false }
            return true
        }
    }

    /// Whether the bytes of `span` are exactly `ascii` (a field key compared with a known name).
    public func span(_ span: Span, equals ascii: StaticString) -> Bool {
        guard span.count == ascii.utf8CodeUnitCount else { return false }
        let name = ascii.utf8Start
        return self.bytes.withUnsafeBufferPointer { all in
            for offset in 0..<span.count where all[span.start + offset] != name[offset] { return false }
            return true
        }
    }

    /// Reads the payload front to back with the checks and the error texts of the wire format (PROTOCOL.md §6).
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        var remaining: Int { self.bytes.count - self.position }

        mutating func event(index: Int, fields: inout [Field]) throws(WireError) -> Entry {
            let time = Int64(bitPattern: try self.integer(8, "event \(index) time"))
            let observed = Int64(bitPattern: try self.integer(8, "event \(index) observed time"))
            let flagsByte = UInt8(try self.integer(1, "event \(index) flags"))
            let flags = Event.Flags(rawValue: flagsByte)
            guard Event.Flags.known.isSuperset(of: flags) else {
                throw WireError.invalidValue(what: "event \(index) flags", value: Int(flagsByte))
            }
            let host = try self.string(prefix: 1, limit: WireLimits.maxHostLength, "event \(index) host")
            let source = try self.string(prefix: 2, limit: WireLimits.maxSourceLength, "event \(index) source")
            let lineLength = Int(try self.integer(4, "event \(index) line length"))
            try checkLength("event \(index) line", lineLength, limit: WireLimits.maxLineLength)
            let line = try self.span(lineLength, "event \(index) line")
            let fieldCount = Int(try self.integer(1, "event \(index) field count"))
            try checkLength("event \(index) field count", fieldCount, limit: WireLimits.maxFieldsPerEvent)
            let firstField = fields.count
            for _ in 0..<fieldCount {
                let key = try self.string(
                    prefix: 1,
                    limit: WireLimits.maxFieldKeyLength,
                    lengthWhat: "event \(index) field key length",
                    "event \(index) field key"
                )
                let value = try self.string(
                    prefix: 2,
                    limit: WireLimits.maxFieldValueLength,
                    lengthWhat: "event \(index) field value length",
                    "event \(index) field value"
                )
                fields.append(Field(key: key, value: value))
            }
            return Entry(
                timeNanos: time,
                observedNanos: observed,
                flags: flags,
                host: host,
                source: source,
                line: line,
                firstField: firstField,
                fieldCount: fieldCount
            )
        }

        /// A big-endian unsigned integer of `size` bytes.
        @inline(__always)
        mutating func integer(_ size: Int, _ what: @autoclosure () -> String) throws(WireError) -> UInt64 {
            guard size <= self.remaining, let base = self.bytes.baseAddress else {
                throw WireError.truncated(what: what())
            }
            var value: UInt64 = 0
            for offset in 0..<size { value = value << 8 | UInt64(base[self.position + offset]) }
            self.position += size
            return value
        }

        @inline(__always)
        mutating func span(_ count: Int, _ what: @autoclosure () -> String) throws(WireError) -> Span {
            guard count <= self.remaining else { throw WireError.truncated(what: what()) }
            defer { self.position += count }
            return Span(start: self.position, count: count)
        }

        /// A length-prefixed UTF-8 string. A prefix that is not there is reported under `lengthWhat` (the host and
        /// the source report it under their own name, as the decoder always did).
        mutating func string(
            prefix: Int,
            limit: Int,
            lengthWhat: @autoclosure () -> String? = nil,
            _ what: @autoclosure () -> String
        ) throws(WireError) -> Span {
            let length = Int(try self.integer(prefix, lengthWhat() ?? what()))
            guard length <= limit else {
                throw WireError.lengthExceedsLimit(what: what(), length: length, limit: limit)
            }
            let span = try self.span(length, what())
            guard UTF8Text.isValid(UnsafeBufferPointer(rebasing: self.bytes[span.start..<(span.start + span.count)]))
            else {
                throw WireError.invalidUTF8(what: what())
            }
            return span
        }
    }
}

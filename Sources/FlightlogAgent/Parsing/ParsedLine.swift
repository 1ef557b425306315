public import FlightlogWire

/// What ``LineParser`` found in one line.
public struct ParsedLine: Sendable, Equatable {
    /// The event time from the line, ns since the Unix epoch; nil if the line has none (use the observed time).
    public var timeNanos: Int64?
    /// Parsed fields in their wire form, within ``WireLimits`` (at most 64, keys ≤ 255 bytes, values ≤ 8192 bytes):
    /// the batch copies them as they are.
    public var encodedFields: EncodedFields
    /// The grammar the line matched.
    public var format: LineFormat

    /// Creates a parse result.
    public init(timeNanos: Int64?, fields: [Event.Field], format: LineFormat) {
        self.init(timeNanos: timeNanos, encodedFields: EncodedFields(fields), format: format)
    }

    /// Creates a parse result from fields already encoded.
    public init(timeNanos: Int64?, encodedFields: EncodedFields, format: LineFormat) {
        self.timeNanos = timeNanos
        self.encodedFields = encodedFields
        self.format = format
    }

    /// The parsed fields as values.
    public var fields: [Event.Field] {
        get { self.encodedFields.fields }
        set { self.encodedFields = EncodedFields(newValue) }
    }

    /// The value of the first field named `key`.
    public subscript(field key: String) -> String? {
        self.fields.first { $0.key == key }?.value
    }
}

extension ParsedLine {
    /// The event of `line` as this parse describes it: the line's own time when it has one (flagged
    /// `timeFromLine`), else when it was observed; `fields` (the parsed ones unless given); `source` cut to
    /// ``WireLimits/maxSourceLength`` bytes.
    public func event(
        line: [UInt8],
        observedNanos: Int64,
        host: String,
        source: String,
        fields: [Event.Field]? = nil
    ) -> Event {
        Event(
            timeNanos: self.timeNanos ?? observedNanos,
            observedNanos: observedNanos,
            flags: self.timeNanos == nil ? [] : .timeFromLine,
            host: host,
            source: Self.wireSource(source),
            line: line,
            fields: fields ?? self.fields
        )
    }

    /// `source` cut to ``WireLimits/maxSourceLength`` bytes.
    static func wireSource(_ source: String) -> String {
        source.utf8.count <= WireLimits.maxSourceLength
            ? source : source.truncatedToUTF8Length(WireLimits.maxSourceLength)
    }
}

public import FlightlogWire

/// What ``LineParser`` found in one line.
public struct ParsedLine: Sendable, Equatable {
    /// The event time from the line, ns since the Unix epoch; nil if the line has none (use the observed time).
    public var timeNanos: Int64?
    /// Parsed fields, within ``WireLimits`` (at most 64, keys ≤ 255 bytes, values ≤ 8192 bytes).
    public var fields: [Event.Field]
    /// The grammar the line matched.
    public var format: LineFormat

    /// Creates a parse result.
    public init(timeNanos: Int64?, fields: [Event.Field], format: LineFormat) {
        self.timeNanos = timeNanos
        self.fields = fields
        self.format = format
    }

    /// The value of the first field named `key`.
    public subscript(field key: String) -> String? {
        self.fields.first { $0.key == key }?.value
    }
}

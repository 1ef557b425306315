/// One log event as it travels inside a batch payload (PROTOCOL.md §6).
///
/// ```
/// offset size field
///  0      8   event time, ns since the Unix epoch (i64)
///  8      8   observed time: when the agent read the line, ns (i64)
/// 16      1   flags (u8): bit 0 = event time was parsed from the line; other bits 0
/// 17      1   host length h (u8)
/// 18      h   host, UTF-8
///  …      2   source length s (u16, ≤ 4096)
///  …      s   source (file path or channel), UTF-8
///  …      4   line length l (u32, ≤ 65536)
///  …      l   raw line, bytes exactly as read (any encoding), without its newline
///  …      1   field count f (u8, ≤ 64)
///  …      …   f × { key length (u8), key (UTF-8), value length (u16, ≤ 8192), value (UTF-8) }
/// ```
public struct Event: Equatable, Hashable, Sendable {
    /// One parsed key/value pair.
    public struct Field: Equatable, Hashable, Sendable {
        public var key: String
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// Flag bits of the event's flags byte.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// The event time was parsed from the line (otherwise it is the observed time).
        public static let timeFromLine = Flags(rawValue: 1)
        /// Every bit this version defines; others must be zero.
        public static let known: Flags = [.timeFromLine]
    }

    public var timeNanos: Int64
    public var observedNanos: Int64
    public var flags: Flags
    public var host: String
    public var source: String
    public var line: [UInt8]
    public var fields: [Field]

    public init(
        timeNanos: Int64,
        observedNanos: Int64,
        flags: Flags = [],
        host: String,
        source: String,
        line: [UInt8],
        fields: [Field] = []
    ) {
        self.timeNanos = timeNanos
        self.observedNanos = observedNanos
        self.flags = flags
        self.host = host
        self.source = source
        self.line = line
        self.fields = fields
    }

    /// The value of the first field named `key`.
    public subscript(field key: String) -> String? {
        self.fields.first { $0.key == key }?.value
    }
}

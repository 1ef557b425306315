import FlightlogSystem

/// One syslog message as received, waiting in the ``SyslogQueue`` for the collector.
struct SyslogMessage: Sendable, Equatable {
    /// Where it came from: `syslog:unix:PATH`, `syslog:udp:HOST:PORT`, `syslog:tcp:HOST:PORT` (the listening side).
    var source: String
    /// The message without its transport framing (no octet count, no trailing LF or NUL).
    var bytes: [UInt8]
    /// When it was received, ns since the Unix epoch.
    var observedNanos: Int64
    /// The sender's credentials as the kernel gives them (Unix socket only).
    var credentials: PeerCredentials?
    /// It was longer than `max_message_bytes` and was cut.
    var truncated: Bool

    init(
        source: String,
        bytes: [UInt8],
        observedNanos: Int64,
        credentials: PeerCredentials? = nil,
        truncated: Bool = false
    ) {
        self.source = source
        self.bytes = bytes
        self.observedNanos = observedNanos
        self.credentials = credentials
        self.truncated = truncated
    }

    /// The field names that only the kernel's credentials may fill: a message that parses into such a key (a JSON
    /// body, say) loses it, so that the value an investigator sees is never one the sender chose.
    static let trustedKeys: Set<String> = ["peer_pid", "peer_uid", "peer_gid"]

    /// `bytes` without the trailing LF, CR and NUL bytes senders add as terminators.
    static func trimmed(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var result = Array(bytes)
        while let last = result.last,
            last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") || last == 0
        {
            result.removeLast()
        }
        return result
    }
}

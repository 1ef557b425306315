import FlightlogSystem
import FlightlogWire

/// The agent's syslog inputs (the `syslog:` section of the agent YAML, `--syslog-unix`, `--syslog-udp`,
/// `--syslog-tcp`): none unless configured.
public struct SyslogConfiguration: Sendable, Equatable {
    /// A TCP or UDP address to listen on.
    public struct Address: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        /// 1…65535 in a configuration; 0 (the kernel chooses) only where a test builds the value itself.
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `HOST:PORT`, `[IPv6]:PORT`.
        public init(parsing value: String, option: String) throws(AgentError) {
            guard let colon = value.lastIndex(of: ":"), colon > value.startIndex,
                let port = Int(value[value.index(after: colon)...]), (1...65535).contains(port)
            else {
                throw AgentError.configuration("\(option) must be HOST:PORT with a port 1…65535, got '\(value)'")
            }
            var host = String(value[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.host = host
            self.port = port
        }

        public var description: String {
            self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
        }
    }

    /// Path of a Unix datagram socket (`/dev/log` where no syslog daemon holds it).
    public var unixPath: String?
    /// Where to receive syslog over UDP (RFC 5426: one message per datagram).
    public var udp: Address?
    /// Where to receive syslog over TCP (RFC 6587: octet counting or LF-terminated, told apart per connection).
    public var tcp: Address?
    /// Longest message kept: a longer datagram is cut to this length, a longer TCP frame closes its connection.
    public var maxMessageBytes: Int
    /// Most messages waiting for the collector; beyond it datagrams are dropped (counted) and TCP stops reading.
    public var queueMaxMessages: Int
    /// Most TCP connections at once; more are closed as they arrive.
    public var maxConnections: Int

    public init(
        unixPath: String? = nil,
        udp: Address? = nil,
        tcp: Address? = nil,
        maxMessageBytes: Int = 64 * 1024,
        queueMaxMessages: Int = 10_000,
        maxConnections: Int = 64
    ) {
        self.unixPath = unixPath
        self.udp = udp
        self.tcp = tcp
        self.maxMessageBytes = maxMessageBytes
        self.queueMaxMessages = queueMaxMessages
        self.maxConnections = maxConnections
    }

    /// Whether any input is configured.
    public var isEnabled: Bool { self.unixPath != nil || self.udp != nil || self.tcp != nil }

    /// The YAML keys of the `syslog:` section.
    struct File: Decodable {
        var unix: String?
        var udp: String?
        var tcp: String?
        var max_message_bytes: Int?
        var queue_max_messages: Int?
        var max_connections: Int?
    }

    /// Applies the keys of a `syslog:` section.
    mutating func apply(_ file: File) throws(AgentError) {
        if let unix = file.unix { self.unixPath = unix }
        if let udp = file.udp { self.udp = try Address(parsing: udp, option: "syslog.udp") }
        if let tcp = file.tcp { self.tcp = try Address(parsing: tcp, option: "syslog.tcp") }
        if let bytes = file.max_message_bytes { self.maxMessageBytes = bytes }
        if let queue = file.queue_max_messages { self.queueMaxMessages = queue }
        if let connections = file.max_connections { self.maxConnections = connections }
    }

    /// Checks the values; the message says what to change.
    func validate() throws(AgentError) {
        if let path = self.unixPath {
            guard path.hasPrefix("/"), path.utf8.count <= UnixDatagramSocket.maxPathLength else {
                throw AgentError.configuration(
                    "syslog.unix must be an absolute path of at most \(UnixDatagramSocket.maxPathLength) bytes "
                        + "(the limit of a Unix socket address), got '\(path)'"
                )
            }
        }
        for (name, address) in [("syslog.udp", self.udp), ("syslog.tcp", self.tcp)] {
            guard let address else { continue }
            guard !address.host.isEmpty, (1...65535).contains(address.port) else {
                throw AgentError.configuration("\(name) must be HOST:PORT with a port 1…65535, got '\(address)'")
            }
        }
        guard (480...WireLimits.maxLineLength).contains(self.maxMessageBytes) else {
            throw AgentError.configuration("syslog.max_message_bytes must be 480…\(WireLimits.maxLineLength)")
        }
        guard (1...1_000_000).contains(self.queueMaxMessages) else {
            throw AgentError.configuration("syslog.queue_max_messages must be 1…1000000")
        }
        guard (1...10_000).contains(self.maxConnections) else {
            throw AgentError.configuration("syslog.max_connections must be 1…10000")
        }
    }
}

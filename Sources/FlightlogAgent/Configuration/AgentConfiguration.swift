import FlightlogTLS
import Foundation
import Yams

/// Everything `flightlog-agent run` can be told, from a YAML file and flags that override it.
public struct AgentConfiguration: Sendable, Equatable {
    /// Aggregator host.
    public var aggregatorHost: String
    /// Aggregator port.
    public var aggregatorPort: Int
    /// Further aggregators on the same store, tried in turn after the first when it cannot be reached, refuses, or
    /// stops answering (docs/SCALE-OUT.md); empty with one aggregator.
    public var failoverAggregators: [AggregatorAddress] = []

    /// Every aggregator, the first one first.
    public var aggregators: [AggregatorAddress] {
        [AggregatorAddress(host: self.aggregatorHost, port: self.aggregatorPort)] + self.failoverAggregators
    }
    /// The private key file (`flightlog-agent keygen`).
    public var keyPath: String
    /// Where chain state, offsets and the spool live.
    public var stateDirectory: String
    /// Glob patterns of files to tail.
    public var watch: [String]
    /// The name events carry as their host.
    public var hostname: String
    /// Ship without TLS (tests, loopback demos).
    public var insecurePlaintext: Bool
    /// PEM file of the CA (or CAs) whose chain the aggregator's certificate must lead to, for its host name.
    public var caPath: String?
    /// Pins (`sha256:HEX`, SHA-256 of a SubjectPublicKeyInfo) of which one must match a certificate the aggregator
    /// presents.
    public var pins: [String]
    /// Start new files at their end instead of their beginning.
    public var startAtEnd: Bool
    /// Spool cap in bytes; reading pauses when it is reached.
    public var spoolMaxBytes: Int
    /// Most events in one batch.
    public var batchMaxEvents: Int
    /// Most uncompressed payload bytes in one batch.
    public var batchMaxBytes: Int
    /// A line is shipped within this many milliseconds of being read.
    public var flushIntervalMilliseconds: Int
    /// zlib level 1 (fast) … 9 (small). Level 1 by default: on a workstation CPU is scarcer than bandwidth
    /// (level 1 compresses ~2.4×, level 6 ~3.1× at 40 % more CPU per line; docs/benchmarks/agent.md).
    public var compressionLevel: Int
    /// Zone for timestamps that carry none (an IANA name such as `Europe/Berlin`); default: the host's zone.
    public var timeZone: String?
    /// The systemd journal source, when enabled.
    public var journal: JournalOptions?

    /// What to read from the systemd journal.
    public struct JournalOptions: Sendable, Equatable {
        /// A folder of journal files to read instead of the system journal (as `journalctl -D`).
        public var directory: String?
        /// `FIELD=value` matches (as journalctl's): the same field twice is either value, different fields must
        /// all match. None: every entry.
        public var matches: [String]

        public init(directory: String? = nil, matches: [String] = []) {
            self.directory = directory
            self.matches = matches
        }
    }
    /// Syslog messages received on a Unix socket, UDP or TCP; none by default.
    public var syslog: SyslogConfiguration
    /// Where to serve the agent's own `/metrics` (Prometheus text), loopback only; nil (the default) serves none:
    /// the aggregator exports every agent's heartbeat counters already.
    public var metricsListen: SyslogConfiguration.Address?

    public init(
        aggregatorHost: String = "127.0.0.1",
        aggregatorPort: Int = 7514,
        keyPath: String = "/etc/flightlog/agent.key",
        stateDirectory: String = "/var/lib/flightlog-agent",
        watch: [String] = [],
        hostname: String = AgentConfiguration.machineHostname(),
        insecurePlaintext: Bool = false,
        caPath: String? = nil,
        pins: [String] = [],
        startAtEnd: Bool = false,
        spoolMaxBytes: Int = 1 << 30,
        batchMaxEvents: Int = 5000,
        batchMaxBytes: Int = 1 << 20,
        flushIntervalMilliseconds: Int = 1000,
        compressionLevel: Int = 1,
        timeZone: String? = nil,
        journal: JournalOptions? = nil,
        syslog: SyslogConfiguration = SyslogConfiguration()
    ) {
        self.aggregatorHost = aggregatorHost
        self.aggregatorPort = aggregatorPort
        self.keyPath = keyPath
        self.stateDirectory = stateDirectory
        self.watch = watch
        self.hostname = hostname
        self.insecurePlaintext = insecurePlaintext
        self.caPath = caPath
        self.pins = pins
        self.startAtEnd = startAtEnd
        self.spoolMaxBytes = spoolMaxBytes
        self.batchMaxEvents = batchMaxEvents
        self.batchMaxBytes = batchMaxBytes
        self.flushIntervalMilliseconds = flushIntervalMilliseconds
        self.compressionLevel = compressionLevel
        self.timeZone = timeZone
        self.journal = journal
        self.syslog = syslog
    }

    /// The machine's host name.
    public static func machineHostname() -> String {
        ProcessInfo.processInfo.hostName
    }

    /// The YAML keys, as in `agent/flightlog-agent.yaml`.
    struct File: Decodable {
        var aggregator: String?
        var aggregators: [String]?
        var key: String?
        var state_dir: String?
        var watch: [String]?
        var hostname: String?
        var insecure_plaintext: Bool?
        var ca: String?
        var pins: [String]?
        var start_at_end: Bool?
        var spool_max_bytes: Int?
        var batch_max_events: Int?
        var batch_max_bytes: Int?
        var flush_interval_ms: Int?
        var compression_level: Int?
        var timezone: String?
        var syslog: SyslogConfiguration.File?
        var journal: JournalFile?
        var metrics_listen: String?
    }

    /// `journal: true`, or `journal:` with `directory:` and `matches:` (and `enabled: false` to turn it off).
    struct JournalFile: Decodable {
        var enabled: Bool
        var directory: String?
        var matches: [String]?

        enum CodingKeys: String, CodingKey { case enabled, directory, matches }

        init(from decoder: any Decoder) throws {
            if let flag = try? decoder.singleValueContainer().decode(Bool.self) {
                self.enabled = flag
                return
            }
            let keyed = try decoder.container(keyedBy: CodingKeys.self)
            self.enabled = try keyed.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
            self.directory = try keyed.decodeIfPresent(String.self, forKey: .directory)
            self.matches = try keyed.decodeIfPresent([String].self, forKey: .matches)
        }
    }

    /// Reads a YAML configuration file over the defaults.
    public static func load(path: String) throws(AgentError) -> AgentConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AgentError.configuration("cannot read \(path)")
        }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: data)
        } catch {
            throw AgentError.configuration("\(path): \(error)")
        }
        var configuration = AgentConfiguration()
        if file.aggregator != nil && file.aggregators != nil {
            throw AgentError.configuration("give aggregator or aggregators, not both")
        }
        if let aggregator = file.aggregator { try configuration.setAggregator(aggregator) }
        if let aggregators = file.aggregators { try configuration.setAggregators(aggregators) }
        if let key = file.key { configuration.keyPath = key }
        if let dir = file.state_dir { configuration.stateDirectory = dir }
        if let watch = file.watch { configuration.watch = watch }
        if let hostname = file.hostname { configuration.hostname = hostname }
        if let plain = file.insecure_plaintext { configuration.insecurePlaintext = plain }
        if let ca = file.ca { configuration.caPath = ca }
        if let pins = file.pins { configuration.pins = pins }
        if let end = file.start_at_end { configuration.startAtEnd = end }
        if let cap = file.spool_max_bytes { configuration.spoolMaxBytes = cap }
        if let events = file.batch_max_events { configuration.batchMaxEvents = events }
        if let bytes = file.batch_max_bytes { configuration.batchMaxBytes = bytes }
        if let flush = file.flush_interval_ms { configuration.flushIntervalMilliseconds = flush }
        if let level = file.compression_level { configuration.compressionLevel = level }
        if let zone = file.timezone { configuration.timeZone = zone }
        if let journal = file.journal, journal.enabled {
            configuration.journal = JournalOptions(directory: journal.directory, matches: journal.matches ?? [])
        }
        if let syslog = file.syslog { try configuration.syslog.apply(syslog) }
        if let metrics = file.metrics_listen {
            configuration.metricsListen = try SyslogConfiguration.Address(parsing: metrics, option: "metrics_listen")
        }
        return configuration
    }

    /// Sets the aggregators from `HOST:PORT` values, the first one first; at most 16.
    public mutating func setAggregators(_ values: [String]) throws(AgentError) {
        guard let first = values.first else { throw AgentError.configuration("aggregators must list at least one") }
        guard values.count <= 16 else { throw AgentError.configuration("aggregators lists at most 16 addresses") }
        try self.setAggregator(first)
        var others: [AggregatorAddress] = []
        for value in values.dropFirst() { others.append(try AggregatorAddress(parsing: value)) }
        self.failoverAggregators = others
    }

    /// Sets host and port from `HOST:PORT`.
    public mutating func setAggregator(_ value: String) throws(AgentError) {
        let address = try AggregatorAddress(parsing: value)
        self.aggregatorHost = address.host
        self.aggregatorPort = address.port
    }

    /// Whether `match` is `FIELD=value` as sd-journal takes it: a field name of upper-case letters, digits and `_`,
    /// not starting with a digit.
    static func isJournalMatch(_ match: String) -> Bool {
        guard let equals = match.utf8.firstIndex(of: UInt8(ascii: "=")) else { return false }
        let name = match.utf8[..<equals]
        guard let first = name.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first), name.count <= 64
        else { return false }
        return name.allSatisfy {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }

    /// 127.0.0.0/8, ::1 or localhost.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    /// Checks the values together; the message says what to change.
    public func validate() throws(AgentError) {
        guard !self.watch.isEmpty || self.journal != nil || self.syslog.isEnabled else {
            throw AgentError.configuration(
                "no source of lines: give at least one source (--watch GLOB or `watch:`, --journal or `journal:`, "
                    + "--syslog-unix PATH, --syslog-udp HOST:PORT, --syslog-tcp HOST:PORT or `syslog:`)"
            )
        }
        for match in self.journal?.matches ?? [] where !Self.isJournalMatch(match) {
            throw AgentError.configuration(
                "journal match '\(match)' must be FIELD=value with FIELD of A–Z, 0–9 and _ (e.g. _SYSTEMD_UNIT=ssh.service)"
            )
        }
        try self.syslog.validate()
        if let metrics = self.metricsListen, !Self.isLoopback(metrics.host) {
            throw AgentError.configuration(
                "metrics_listen must be a loopback address (127.0.0.1:PORT or [::1]:PORT), got \(metrics): a "
                    + "workstation serves nobody else; the aggregator's --metrics-listen exports every agent's counters"
            )
        }
        if self.insecurePlaintext {
            guard self.caPath == nil, self.pins.isEmpty else {
                throw AgentError.configuration(
                    "insecure_plaintext and ca/pins contradict each other: drop insecure_plaintext to ship over TLS"
                )
            }
        } else {
            guard self.caPath != nil || !self.pins.isEmpty else {
                throw AgentError.configuration(
                    "the aggregator cannot be authenticated: give ca: PEM or pins: [sha256:…] (--ca, --pin; "
                        + "`flightlog tls-init` prints the pin), or insecure_plaintext: true on loopback"
                )
            }
            for pin in self.pins {
                do {
                    _ = try CertificatePin(pin)
                } catch {
                    throw AgentError.configuration("\(error)")
                }
            }
        }
        guard self.spoolMaxBytes >= 1 << 20 else {
            throw AgentError.configuration("spool_max_bytes must be at least 1 MiB")
        }
        guard (1...65_536).contains(self.batchMaxEvents) else {
            throw AgentError.configuration("batch_max_events must be 1…65536")
        }
        guard (4096...(4 << 20)).contains(self.batchMaxBytes) else {
            throw AgentError.configuration("batch_max_bytes must be 4096…4194304")
        }
        guard (10...60_000).contains(self.flushIntervalMilliseconds) else {
            throw AgentError.configuration("flush_interval_ms must be 10…60000")
        }
        guard (1...9).contains(self.compressionLevel) else {
            throw AgentError.configuration("compression_level must be 1…9")
        }
        guard !self.hostname.isEmpty, self.hostname.utf8.count <= 255 else {
            throw AgentError.configuration("hostname must be 1…255 bytes")
        }
        if let zone = self.timeZone, TimeZone(identifier: zone) == nil {
            throw AgentError.configuration("unknown time zone '\(zone)'")
        }
    }
}

/// One aggregator's `HOST:PORT`.
public struct AggregatorAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT`, the host in brackets when it is an IPv6 address.
    public init(parsing value: String) throws(AgentError) {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
            (1...65535).contains(port), colon > value.startIndex
        else {
            throw AgentError.configuration("aggregator must be HOST:PORT, got '\(value)'")
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

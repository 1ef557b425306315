import ArgumentParser
import CMalloc
import FlightlogAgent
import Logging

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Tail, batch, sign, spool and ship until SIGTERM or SIGINT.",
        discussion: """
            Settings come from --config (YAML, see agent/flightlog-agent.yaml) and the flags below override them. \
            New files are read from their beginning; offsets, the chain head and the spool advance together, so a \
            crash (even kill -9) neither loses nor duplicates a line. With --journal the systemd journal is read \
            through libsystemd from its first entry, and its cursor advances with the spool in the same way; \
            entries that vanished before they were read (vacuumed, rotated away) ship as a journal_gap event. On SIGTERM the agent commits a final batch \
            with its stop event and tries for a few seconds to ship it.

            TLS 1.3 is required unless --insecure-plaintext: the aggregator is trusted by --ca (its certificate must \
            chain to that CA and name the host given to --aggregator) and/or --pin (one of the certificates it \
            presents must have a pinned public key; a CA's pin also verifies the chain below it).

            Examples:
              flightlog-agent run --config /etc/flightlog/agent.yaml
              flightlog-agent run --aggregator logs.example:7514 --key agent.key --state-dir state \\
                  --watch '/var/log/auth.log' --pin sha256:3b1f…
              flightlog-agent run --aggregator 127.0.0.1:7514 --key agent.key --state-dir state \\
                  --watch '/var/log/auth.log' --watch '/var/log/app/*.log' --insecure-plaintext
              flightlog-agent run --config /etc/flightlog/agent.yaml --journal \\
                  --journal-match _SYSTEMD_UNIT=ssh.service --journal-match SYSLOG_IDENTIFIER=sudo
              flightlog-agent run --config /etc/flightlog/agent.yaml --syslog-unix /dev/log \\
                  --syslog-udp 127.0.0.1:5514 --syslog-tcp 127.0.0.1:5514

            Syslog inputs (--syslog-unix, --syslog-udp, --syslog-tcp, or `syslog:`) receive what applications send \
            with syslog(3) or `logger`, parsed like lines of a file. They are acknowledged only as far as the \
            protocol allows: nothing for a datagram (when the agent's queue is full, datagrams are dropped and the \
            count is shipped as a `syslog_dropped` event), and TCP has no application acknowledgement (a full queue \
            holds senders back; messages queued at a kill -9 are lost). A message is durable once in a committed \
            batch. Messages on the Unix socket carry the sender's pid, uid and gid as the kernel reports them \
            (peer_pid, peer_uid, peer_gid), apart from the tag and pid the message claims.
            """
    )

    @Option(
        help: ArgumentHelp("YAML configuration file. Example: --config /etc/flightlog/agent.yaml", valueName: "path")
    )
    var config: String?

    @Option(
        help: ArgumentHelp(
            "Aggregator address; repeat it for several aggregators on one PostgreSQL store, tried in turn when one "
                + "fails (docs/SCALE-OUT.md). Example: --aggregator agg-1.example:7514 --aggregator agg-2.example:7514",
            valueName: "host:port"
        )
    )
    var aggregator: [String] = []

    @Option(help: ArgumentHelp("Private key file. Example: --key /etc/flightlog/agent.key", valueName: "path"))
    var key: String?

    @Option(
        help: ArgumentHelp(
            "State directory: offsets, chain, spool. Example: --state-dir /var/lib/flightlog-agent",
            valueName: "dir"
        )
    )
    var stateDir: String?

    @Option(help: ArgumentHelp("File glob to tail; repeatable. Example: --watch '/var/log/*.log'", valueName: "glob"))
    var watch: [String] = []

    @Option(
        help: ArgumentHelp(
            "Receive syslog on a Unix datagram socket at this path (/dev/log only where no syslog daemon holds it). "
                + "Example: --syslog-unix /run/flightlog/log.sock",
            valueName: "path"
        )
    )
    var syslogUnix: String?

    @Option(
        help: ArgumentHelp(
            "Receive syslog over UDP (RFC 3164 or 5424, one message per datagram). Example: --syslog-udp 127.0.0.1:5514",
            valueName: "host:port"
        )
    )
    var syslogUdp: String?

    @Option(
        help: ArgumentHelp(
            "Receive syslog over TCP (octet counting or one message per line, RFC 6587). "
                + "Example: --syslog-tcp 127.0.0.1:5514",
            valueName: "host:port"
        )
    )
    var syslogTcp: String?

    @Option(
        help: ArgumentHelp(
            "Serve this agent's counters to Prometheus (GET /metrics) on a loopback address; off by default, since the "
                + "aggregator's --metrics-listen exports every agent's. Example: --metrics-listen 127.0.0.1:9465",
            valueName: "host:port"
        )
    )
    var metricsListen: String?

    @Option(help: "Host name events carry (default: the machine's). Example: --hostname cc-ws-602")
    var hostname: String?

    @Flag(help: "Ship without TLS (loopback or an isolated network only).")
    var insecurePlaintext = false

    @Option(
        help: ArgumentHelp(
            "PEM file of the CA the aggregator's certificate must chain to, for the aggregator's host name. "
                + "Example: --ca /etc/flightlog/ca.pem",
            valueName: "path"
        )
    )
    var ca: String?

    @Option(
        help: ArgumentHelp(
            "SHA-256 of a public key (SubjectPublicKeyInfo) of the aggregator's chain, as `flightlog tls-init` "
                + "prints it; repeatable, one must match. Example: --pin sha256:3b1f…",
            valueName: "sha256:hex"
        )
    )
    var pin: [String] = []

    @Flag(help: "Read files seen for the first time from their end instead of their beginning.")
    var startAtEnd = false

    @Option(
        help: "Spool cap in bytes; reading pauses when reached (default 1 GiB). Example: --spool-max-bytes 268435456"
    )
    var spoolMaxBytes: Int?

    @Option(help: "A line ships within this many ms of being read (default 1000). Example: --flush-interval-ms 200")
    var flushIntervalMs: Int?

    @Flag(help: "Read the systemd journal (the local system journal unless --journal-directory).")
    var journal = false

    @Option(
        help: ArgumentHelp(
            "Read the journal files of this folder instead of the system journal, as `journalctl -D` (implies "
                + "--journal). Example: --journal-directory /var/log/journal/remote",
            valueName: "dir"
        )
    )
    var journalDirectory: String?

    @Option(
        help: ArgumentHelp(
            "Only journal entries with FIELD=value; repeatable: the same field twice is either value, different "
                + "fields must all match (implies --journal). Example: --journal-match _SYSTEMD_UNIT=ssh.service",
            valueName: "FIELD=value"
        )
    )
    var journalMatch: [String] = []

    @Option(
        help: ArgumentHelp(
            "Log level: trace, debug, info, notice, warning, error, critical. Example: --log-level debug"
        )
    )
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        var configuration: AgentConfiguration
        do {
            configuration = try self.config.map(AgentConfiguration.load(path:)) ?? AgentConfiguration()
            if !self.aggregator.isEmpty { try configuration.setAggregators(self.aggregator) }
            if let key = self.key { configuration.keyPath = key }
            if let dir = self.stateDir { configuration.stateDirectory = dir }
            if !self.watch.isEmpty { configuration.watch = self.watch }
            if let path = self.syslogUnix { configuration.syslog.unixPath = path }
            if let udp = self.syslogUdp {
                configuration.syslog.udp = try SyslogConfiguration.Address(parsing: udp, option: "--syslog-udp")
            }
            if let tcp = self.syslogTcp {
                configuration.syslog.tcp = try SyslogConfiguration.Address(parsing: tcp, option: "--syslog-tcp")
            }
            if let metrics = self.metricsListen {
                configuration.metricsListen = try SyslogConfiguration.Address(
                    parsing: metrics,
                    option: "--metrics-listen"
                )
            }
            if let hostname = self.hostname { configuration.hostname = hostname }
            if self.insecurePlaintext { configuration.insecurePlaintext = true }
            if let ca = self.ca { configuration.caPath = ca }
            if !self.pin.isEmpty { configuration.pins = self.pin }
            if self.startAtEnd { configuration.startAtEnd = true }
            if let cap = self.spoolMaxBytes { configuration.spoolMaxBytes = cap }
            if let flush = self.flushIntervalMs { configuration.flushIntervalMilliseconds = flush }
            if self.journal || self.journalDirectory != nil || !self.journalMatch.isEmpty {
                var options = configuration.journal ?? AgentConfiguration.JournalOptions()
                if let directory = self.journalDirectory { options.directory = directory }
                if !self.journalMatch.isEmpty { options.matches = self.journalMatch }
                configuration.journal = options
            }
            try configuration.validate()
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Start-up (arguments, YAML, key, time zone data) touches code the agent never runs again; once it runs,
        // only what it keeps using should stay mapped (docs/benchmarks/agent.md, footprint).
        let release = Task {
            try await Task.sleep(for: .seconds(5))
            _ = flightlog_release_read_only_pages()
        }
        defer { release.cancel() }
        do {
            try await Agent.run(configuration: configuration, logger: Logger(label: "flightlog.agent"))
        } catch let error as AgentError {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

import ArgumentParser
import CMalloc
import FlightlogAggregator
import FlightlogEvidence
import FlightlogPostgres
import FlightlogStore
import FlightlogTLS
import Foundation
import Logging
import ServiceLifecycle
import Yams

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Accept enrolled agents, verify their batches, store them durably and acknowledge.",
        discussion: """
            Each batch is verified (signature, agent, epoch, chain link, limits), stored with its raw signed bytes, \
            its events indexed, and acknowledged only after the transaction holding it is on disk. SIGINT or \
            SIGTERM stop accepting, finish in-flight commits, ack them and close connections cleanly.

            Counters are written every 2 s to the status file (default: DB.status.json); read them with \
            `flightlog status`.

            Several servers may share one PostgreSQL store (--store, docs/SCALE-OUT.md): agents list them all and \
            fail over; each batch is stored once whichever node receives it, and the nodes append to one \
            transparency log, signed with the one --aggregator-key they share.

            One server per SQLite database: serve holds a lock on DB.serve.lock while it runs, and a second serve on the \
            same database exits (status 2) naming the first. The lock goes with the process, however it ends.

            Every accepted batch is appended to a Merkle tree (the transparency log); a checkpoint of it, signed \
            with the aggregator key, is stored at start, every --checkpoint-interval seconds while the tree grows, \
            and at shutdown. Copy them off the machine with `flightlog checkpoint --out FILE`.

            Agents are served over TLS 1.3 with --tls-cert and --tls-key (`flightlog tls-init` makes a private CA \
            and a server certificate for deployments without a PKI); the files are read again on SIGHUP and when \
            they change, for new connections. A plaintext agent gets a plaintext ERROR tlsRequired that says so. \
            --insecure-plaintext serves without TLS, for loopback demos and tests only. Settings can come from a \
            YAML file (--config, see aggregator/flightlog-serve.yaml); flags override it.

            Examples:
              flightlog serve --config /etc/flightlog/aggregator.yaml
              flightlog serve --db flightlog.db --listen 0.0.0.0:7514 --tls-cert tls/server.pem --tls-key tls/server.key
              flightlog serve --db /tmp/t.db --listen 127.0.0.1:0 --insecure-plaintext --log-level debug
              flightlog serve --config /etc/flightlog/aggregator.yaml --metrics-listen 10.0.0.5:9464
              FLIGHTLOG_PG_PASSWORD_FILE=/etc/flightlog/pg.pass flightlog serve \\
                  --store postgres://flightlog@db1/flightlog --node agg-1 --aggregator-key /etc/flightlog/site.key \\
                  --tls-cert tls/server.pem --tls-key tls/server.key
            """
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The Flightlog database file (SQLite); default flightlog.db. Example: --db /var/lib/flightlog/flightlog.db",
            valueName: "path"
        )
    )
    var db: String?

    @Option(
        help: ArgumentHelp(
            "A PostgreSQL store instead of --db, shared by several serve nodes (docs/SCALE-OUT.md): "
                + "postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full; the password from the file "
                + "FLIGHTLOG_PG_PASSWORD_FILE names. Needs --aggregator-key, the same file on every node. "
                + "Example: --store postgres://flightlog@db1/flightlog",
            valueName: "url"
        )
    )
    var store: String?

    @Option(
        help: ArgumentHelp(
            "This node's name in the PostgreSQL store (which node stored a batch); default: the host name. "
                + "Example: --node agg-2",
            valueName: "name"
        )
    )
    var node: String?

    @Option(
        help: ArgumentHelp(
            "A YAML file with any of these settings (aggregator/flightlog-serve.yaml); flags override it. "
                + "Example: --config /etc/flightlog/aggregator.yaml",
            valueName: "path"
        )
    )
    var config: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Log level: trace, debug, info, notice, warning, error, critical (default info). Example: --log-level debug"
        )
    )
    var logLevel: Logger.Level?

    @Option(
        help: ArgumentHelp(
            "Address to listen on (default 0.0.0.0:7514); port 0 picks a free port. Example: --listen 0.0.0.0:7514",
            valueName: "host:port"
        )
    )
    var listen: HostPort?

    @Option(
        help: ArgumentHelp(
            "PEM certificate chain served to agents (TLS 1.3), the server's certificate first; re-read on SIGHUP "
                + "and when the file changes. Example: --tls-cert /etc/flightlog/tls/server.pem",
            valueName: "path"
        )
    )
    var tlsCert: String?

    @Option(
        help: ArgumentHelp(
            "PEM private key of --tls-cert (mode 0600). Example: --tls-key /etc/flightlog/tls/server.key",
            valueName: "path"
        )
    )
    var tlsKey: String?

    @Flag(help: "Serve without TLS. Logs carry PII: use only on loopback or a trusted, isolated network.")
    var insecurePlaintext = false

    @Option(help: "Batches an agent may send before waiting for acks (1–1024, default 64). Example: --window 64")
    var window: UInt16?

    @Option(
        help:
            "Seconds of silence before a heartbeat (default 15); 3× this closes an idle connection. Example: --heartbeat 15"
    )
    var heartbeat: UInt16?

    @Option(
        help: ArgumentHelp(
            "Connections served at once (default 4096); more are refused with serverBusy. The open-file limit is "
                + "raised to fit them (up to the hard limit, else fewer are served, with a warning). "
                + "Example: --max-connections 4096",
            valueName: "count"
        )
    )
    var maxConnections: Int?

    @Option(
        help: ArgumentHelp(
            "Seconds from accepting a connection to a completed handshake (1–3600, default 10). "
                + "Example: --handshake-timeout 10",
            valueName: "seconds"
        )
    )
    var handshakeTimeout: Int64?

    @Option(
        help: ArgumentHelp(
            "Where to write running counters (JSON; default DB.status.json). "
                + "Example: --status-file /run/flightlog/status.json",
            valueName: "path"
        )
    )
    var statusFile: String?

    @Option(
        help: ArgumentHelp(
            "The aggregator's checkpoint signing key, created (mode 0600, with PATH.pub) when missing; default: "
                + "flightlog-aggregator.key next to the database. Example: --aggregator-key /etc/flightlog/aggregator.key",
            valueName: "path"
        )
    )
    var aggregatorKey: String?

    @Option(
        help:
            "Seconds between signed checkpoints of the transparency log while it grows (default 60). Example: --checkpoint-interval 60"
    )
    var checkpointInterval: Int64?

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics (GET /metrics, text format) on this address: the aggregator's counters and "
                + "latency histograms, one series per agent from its heartbeats, the last verify runs "
                + "(docs/METRICS.md). Off by default. Example: --metrics-listen 127.0.0.1:9464",
            valueName: "host:port"
        )
    )
    var metricsListen: HostPort?

    func run() async throws {
        // Two malloc arenas (one per core of the machines it is sized for), set before the serving threads
        // allocate: glibc's default of eight per core kept ~160 MB freed but not returned across ten arenas after a
        // 1 M-line catch-up (peak RSS 608 → 543 MiB, docs/benchmarks/storage.md).
        _ = flightlog_set_malloc_arenas(2)
        let settings: ServeSettings
        do {
            settings = try ServeSettings(self)
        } catch let error as ValidationError {
            // Worded like ArgumentParser's usage errors, with the same exit code.
            FileHandle.standardError.write(
                Data("Error: \(error.message)\n  See 'flightlog serve --help' for more information.\n".utf8)
            )
            throw ExitCode.validationFailure
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        try await settings.serve()
    }
}

/// `serve`'s settings: the flags over the YAML file over the defaults, checked together.
struct ServeSettings {
    var db = "flightlog.db"
    var logLevel = Logger.Level.info
    var listen = HostPort(host: "0.0.0.0", port: 7514)
    var tlsCert: String?
    var tlsKey: String?
    var insecurePlaintext = false
    var window: UInt16 = 64
    var heartbeat: UInt16 = 15
    var maxConnections = 4096
    var handshakeTimeout: Int64 = 10
    var statusFile: String?
    var aggregatorKey: String?
    var checkpointInterval: Int64 = 60
    var metricsListen: HostPort?
    var store: String?
    var node: String?

    /// The keys of the YAML file, as in `aggregator/flightlog-serve.yaml`.
    struct File: Decodable {
        var db: String?
        var log_level: String?
        var listen: String?
        var tls_cert: String?
        var tls_key: String?
        var insecure_plaintext: Bool?
        var window: UInt16?
        var heartbeat: UInt16?
        var max_connections: Int?
        var handshake_timeout: Int64?
        var status_file: String?
        var aggregator_key: String?
        var checkpoint_interval: Int64?
        var metrics_listen: String?
        var store: String?
        var node: String?
    }

    init(_ command: ServeCommand) throws {
        if let path = command.config {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--config: cannot read \(path)")
            }
            let file: File
            do {
                file = try YAMLDecoder().decode(File.self, from: data)
            } catch {
                throw ValidationError("\(path): \(error)")
            }
            if let db = file.db { self.db = db }
            self.store = file.store ?? self.store
            self.node = file.node ?? self.node
            if let level = file.log_level {
                guard let parsed = Logger.Level(rawValue: level) else {
                    throw ValidationError(
                        "\(path): log_level must be one of trace, debug, info, notice, warning, error, critical"
                    )
                }
                self.logLevel = parsed
            }
            if let listen = file.listen {
                guard let parsed = HostPort(argument: listen) else {
                    throw ValidationError("\(path): listen must be HOST:PORT, got '\(listen)'")
                }
                self.listen = parsed
            }
            self.tlsCert = file.tls_cert ?? self.tlsCert
            self.tlsKey = file.tls_key ?? self.tlsKey
            self.insecurePlaintext = file.insecure_plaintext ?? self.insecurePlaintext
            self.window = file.window ?? self.window
            self.heartbeat = file.heartbeat ?? self.heartbeat
            self.maxConnections = file.max_connections ?? self.maxConnections
            self.handshakeTimeout = file.handshake_timeout ?? self.handshakeTimeout
            self.statusFile = file.status_file ?? self.statusFile
            self.aggregatorKey = file.aggregator_key ?? self.aggregatorKey
            self.checkpointInterval = file.checkpoint_interval ?? self.checkpointInterval
            if let metrics = file.metrics_listen {
                guard let parsed = HostPort(argument: metrics) else {
                    throw ValidationError("\(path): metrics_listen must be HOST:PORT, got '\(metrics)'")
                }
                self.metricsListen = parsed
            }
        }
        self.db = command.db ?? self.db
        self.store = command.store ?? self.store
        self.node = command.node ?? self.node
        if command.db != nil && command.store != nil {
            throw ValidationError("--db and --store name two stores: give one")
        }
        self.logLevel = command.logLevel ?? self.logLevel
        self.listen = command.listen ?? self.listen
        self.tlsCert = command.tlsCert ?? self.tlsCert
        self.tlsKey = command.tlsKey ?? self.tlsKey
        if command.insecurePlaintext { self.insecurePlaintext = true }
        self.window = command.window ?? self.window
        self.heartbeat = command.heartbeat ?? self.heartbeat
        self.maxConnections = command.maxConnections ?? self.maxConnections
        self.handshakeTimeout = command.handshakeTimeout ?? self.handshakeTimeout
        self.statusFile = command.statusFile ?? self.statusFile
        self.aggregatorKey = command.aggregatorKey ?? self.aggregatorKey
        self.checkpointInterval = command.checkpointInterval ?? self.checkpointInterval
        self.metricsListen = command.metricsListen ?? self.metricsListen
        try self.check()
    }

    /// What `serve --help` promises of each value, checked once flags and file are merged.
    func check() throws {
        if let store = self.store {
            do {
                _ = try PostgresLocation(store)
            } catch {
                throw ValidationError("--store: \(error)")
            }
            guard self.aggregatorKey != nil else {
                throw ValidationError(
                    "--store needs --aggregator-key: every node signs the one transparency log with the same key file"
                )
            }
        }
        guard (1...31_536_000).contains(self.checkpointInterval) else {
            throw ValidationError("--checkpoint-interval must be between 1 second and a year (31536000)")
        }
        guard (1...1024).contains(self.window) else { throw ValidationError("--window must be between 1 and 1024") }
        guard self.heartbeat >= 1 else { throw ValidationError("--heartbeat must be at least 1 second") }
        guard (1...1_000_000).contains(self.maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 1000000")
        }
        guard (1...3600).contains(self.handshakeTimeout) else {
            throw ValidationError("--handshake-timeout must be between 1 and 3600 seconds")
        }
        switch (self.tlsCert, self.tlsKey, self.insecurePlaintext) {
        case (nil, nil, false):
            throw ValidationError(
                "agents are served over TLS: give --tls-cert and --tls-key (`flightlog tls-init` makes them), or "
                    + "--insecure-plaintext for loopback or an isolated network"
            )
        case (.some, nil, _), (nil, .some, _):
            throw ValidationError("--tls-cert and --tls-key go together")
        case (.some, .some, true):
            throw ValidationError("--insecure-plaintext and --tls-cert contradict each other: drop one")
        default:
            return
        }
    }

    func serve() async throws {
        let credentials: ServerCredentials?
        if let certificate = self.tlsCert, let key = self.tlsKey {
            do {
                credentials = try ServerCredentials(certificatePath: certificate, keyPath: key)
            } catch {
                Output.error("TLS: \(error)")
                throw ExitCode(2)
            }
        } else {
            credentials = nil
        }
        let level = self.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "flightlog.serve")
        let opened = try await self.openStore(logger: logger)
        let store = opened.store
        let lock = opened.lock
        let signer: CheckpointSigner
        do {
            signer = try AggregatorKeyFile.loadOrCreate(
                self.aggregatorKey ?? AggregatorKeyFile.defaultPath(database: self.db)
            )
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let configuration = AggregatorConfiguration(
            host: self.listen.host,
            port: self.listen.port,
            window: self.window,
            heartbeatIntervalSeconds: self.heartbeat,
            handshakeTimeoutSeconds: self.handshakeTimeout,
            maxConnections: self.maxConnections,
            statusPath: self.statusFile ?? (self.store == nil ? self.db : "flightlog-\(opened.node)") + ".status.json",
            tls: credentials
        )
        let metrics = self.metricsListen.map { address in
            Aggregator.MetricsSetup(host: address.host, port: address.port) {
                let agents = try? await opened.summaries()
                let runs = try? await opened.verifyRuns()
                return (agents.map(AggregatorExposition.AgentRow.enrolled), runs)
            }
        }
        let setup = Aggregator.Setup(
            configuration: configuration,
            signer: signer,
            checkpointIntervalSeconds: self.checkpointInterval,
            metrics: metrics
        )
        do {
            try await Aggregator.run(setup, store: store, logger: logger) { port in
                let bound = HostPort(host: self.listen.host, port: port)
                Output.line("flightlog: listening on \(bound) (\(credentials == nil ? "plaintext" : "TLS 1.3"))")
                lock?.describe("pid \(getpid()), listening on \(bound)")
            } metricsListening: { port in
                let bound = HostPort(host: self.metricsListen?.host ?? "", port: port)
                Output.line("flightlog: metrics on http://\(bound)/metrics")
            }
        } catch let error as AggregatorError {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        lock?.release()
        opened.close()
    }

    /// The store `serve` runs on, with what else it needs of it.
    struct OpenedStore {
        var store: any EvidenceStore & TransparencyStore
        /// The lock on an SQLite database (one serve each); nil on PostgreSQL, which several nodes share.
        var lock: ServeLock?
        var node: String
        var summaries: @Sendable () async throws -> [AgentSummary]
        var verifyRuns: @Sendable () async throws -> [VerifyRun]?
        var close: @Sendable () -> Void
    }

    /// Opens the PostgreSQL store of --store, or the SQLite database of --db under its serve lock; exit 2 with the
    /// reason when it cannot.
    func openStore(logger: Logger) async throws -> OpenedStore {
        if let url = self.store {
            let node = self.node ?? ProcessInfo.processInfo.hostName
            let postgres: PostgresStore
            do {
                postgres = try await PostgresStore.open(try PostgresLocation(url), node: node, maxConnections: 16)
            } catch {
                Output.error("\(error)")
                throw ExitCode(2)
            }
            let durability: String
            do {
                durability = try await postgres.durability()
            } catch {
                postgres.close()
                Output.error("\(error)")
                throw ExitCode(2)
            }
            logger.notice(
                "Storing on PostgreSQL as node \(node)",
                metadata: ["store": "\(postgres.location)", "durability": "\(durability)"]
            )
            return OpenedStore(
                store: postgres,
                lock: nil,
                node: node,
                summaries: { try await postgres.agentSummaries() },
                verifyRuns: { nil },
                close: { postgres.close() }
            )
        }
        let lock: ServeLock
        do {
            lock = try ServeLock.acquire(databasePath: self.db)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let store: any FlightlogStorage
        do {
            store = try Storage.open(path: self.db, onDamagedIndex: .moveAsideAndRebuild)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        for moved in store.movedDamagedFullText {
            logger.warning(
                """
                The full-text index was damaged: moved aside and rebuilt from the stored events (the evidence \
                database is not affected; --match queries miss events until the index has caught up)
                """,
                metadata: ["moved_to": "\(moved)"]
            )
        }
        if let progress = try? store.fullTextProgressNow(), progress.lag > 0 {
            // After an upgrade that changes the index's layout, a removed or damaged DB.fts or DB.fts1, or a stop
            // while it trailed: the operator sees why --match misses recent events for a while, and that nothing waits on it.
            logger.notice(
                """
                The full-text index trails the stored events: indexing them now, its two files on two cores (about \
                200,000 events/s when nothing else runs); evidence is stored and acknowledged meanwhile, and --match \
                misses the events not indexed yet
                """,
                metadata: ["events_to_index": "\(progress.lag)", "indexed_through": "\(progress.indexedThrough)"]
            )
        }
        return OpenedStore(
            store: store,
            lock: lock,
            node: ProcessInfo.processInfo.hostName,
            summaries: { try await store.agentSummaries() },
            verifyRuns: { try await store.latestVerifyRuns() },
            close: {}
        )
    }
}

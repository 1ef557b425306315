import ArgumentParser
import FlightlogAggregator
import FlightlogStore
import Foundation
import Logging
import ServiceLifecycle

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

            One server per database: serve holds a lock on DB.serve.lock while it runs, and a second serve on the \
            same database exits (status 2) naming the first. The lock goes with the process, however it ends.

            Every accepted batch is appended to a Merkle tree (the transparency log); a checkpoint of it, signed \
            with the aggregator key, is stored at start, every --checkpoint-interval seconds while the tree grows, \
            and at shutdown. Copy them off the machine with `flightlog checkpoint --out FILE`.

            TLS arrives in a later release; until then the server only starts with --insecure-plaintext, which \
            keeps working afterwards for loopback demos and tests.

            Examples:
              flightlog serve --db flightlog.db --listen 0.0.0.0:7514 --insecure-plaintext
              flightlog serve --db /tmp/t.db --listen 127.0.0.1:0 --insecure-plaintext --log-level debug
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    @Option(
        help: ArgumentHelp(
            "Address to listen on; port 0 picks a free port. Example: --listen 0.0.0.0:7514",
            valueName: "host:port"
        )
    )
    var listen: HostPort = HostPort(host: "0.0.0.0", port: 7514)

    @Flag(help: "Serve without TLS. Logs carry PII: use only on loopback or a trusted, isolated network.")
    var insecurePlaintext = false

    @Option(help: "Batches an agent may send before waiting for acks (1–1024). Example: --window 64")
    var window: UInt16 = 64

    @Option(help: "Seconds of silence before a heartbeat; 3× this closes an idle connection. Example: --heartbeat 15")
    var heartbeat: UInt16 = 15

    @Option(
        help: ArgumentHelp(
            "Connections served at once; more are refused with serverBusy. The open-file limit is raised to fit "
                + "them (up to the hard limit, else fewer are served, with a warning). Example: --max-connections 4096",
            valueName: "count"
        )
    )
    var maxConnections: Int = 4096

    @Option(
        help: ArgumentHelp(
            "Seconds from accepting a connection to a completed handshake (1–3600). Example: --handshake-timeout 10",
            valueName: "seconds"
        )
    )
    var handshakeTimeout: Int64 = 10

    @Option(
        help: ArgumentHelp(
            "Where to write running counters (JSON). Example: --status-file /run/flightlog/status.json",
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
            "Seconds between signed checkpoints of the transparency log while it grows. Example: --checkpoint-interval 60"
    )
    var checkpointInterval: Int64 = 60

    func validate() throws {
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
    }

    func run() async throws {
        // Checked here, not in validate(): ArgumentParser runs validate() before it reports an unknown option, so a
        // mistyped `--insecure-plaintex` was answered with "pass --insecure-plaintext" instead of naming the typo.
        guard self.insecurePlaintext else {
            // Worded like ArgumentParser's usage errors, with the same exit code.
            let message = """
                Error: TLS is not available in this release yet; pass --insecure-plaintext to serve without \
                encryption (loopback or an isolated network only).
                  See 'flightlog serve --help' for more information.

                """
            FileHandle.standardError.write(Data(message.utf8))
            throw ExitCode.validationFailure
        }
        let lock: ServeLock
        do {
            lock = try ServeLock.acquire(databasePath: self.database.db)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let logger = self.log.bootstrap(label: "flightlog.serve")
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: self.database.db, onDamagedIndex: .moveAsideAndRebuild)
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
        let signer: CheckpointSigner
        do {
            signer = try AggregatorKeyFile.loadOrCreate(
                self.aggregatorKey ?? AggregatorKeyFile.defaultPath(database: self.database.db)
            )
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let statusPath = self.statusFile ?? self.database.db + ".status.json"
        // Once the database is open (its files count): each connection needs a file descriptor.
        let files = OpenFileLimit.prepare(maxConnections: self.maxConnections)
        if let report = files.report {
            if files.isShort { logger.warning("\(report)") } else { logger.info("\(report)") }
        }
        let configuration = AggregatorConfiguration(
            host: self.listen.host,
            port: self.listen.port,
            window: self.window,
            heartbeatIntervalSeconds: self.heartbeat,
            handshakeTimeoutSeconds: self.handshakeTimeout,
            maxConnections: files.connections,
            statusPath: statusPath
        )
        let metrics = AggregatorMetrics()
        let server: IngestServer
        do {
            server = try await IngestServer(
                configuration: configuration,
                store: store,
                metrics: metrics,
                logger: logger
            )
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        let bound = HostPort(host: self.listen.host, port: server.port)
        Output.line("flightlog: listening on \(bound)")
        lock.describe("pid \(getpid()), listening on \(bound)")
        let reporter = StatusReporter(
            metrics: metrics,
            path: statusPath,
            intervalSeconds: configuration.statusIntervalSeconds,
            listen: bound.description,
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                // Shut down in reverse order: the last checkpoint is signed after the server's last commit.
                services: [
                    .init(
                        service: CheckpointService(
                            store: store,
                            signer: signer,
                            intervalSeconds: self.checkpointInterval,
                            logger: logger
                        )
                    ),
                    .init(service: reporter),
                    .init(service: server),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        lock.release()
    }
}

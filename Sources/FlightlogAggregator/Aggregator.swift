public import FlightlogEvidence
import FlightlogMetrics
public import FlightlogStore
public import Logging
import ServiceLifecycle
import UnixSignals

/// The whole aggregator as `flightlog serve` runs it: the ingest server, the status file, the periodic signed
/// checkpoint and the certificate reloader in one service group, stopped by SIGTERM or SIGINT.
public enum Aggregator {
    /// What the caller decided before the aggregator runs: where it listens and how, and its checkpoint key.
    public struct Setup: Sendable {
        public var configuration: AggregatorConfiguration
        /// Signs the transparency log's checkpoints.
        public var signer: CheckpointSigner
        /// Seconds between signed checkpoints (only when the log has grown).
        public var checkpointIntervalSeconds: Int64
        /// Where to serve `/metrics`, if anywhere (`--metrics-listen`).
        public var metrics: MetricsSetup?

        public init(
            configuration: AggregatorConfiguration,
            signer: CheckpointSigner,
            checkpointIntervalSeconds: Int64,
            metrics: MetricsSetup? = nil
        ) {
            self.configuration = configuration
            self.signer = signer
            self.checkpointIntervalSeconds = checkpointIntervalSeconds
            self.metrics = metrics
        }
    }

    /// The Prometheus endpoint: its address, and how a scrape reads the agents and verify runs from the store.
    public struct MetricsSetup: Sendable {
        public var host: String
        public var port: Int
        /// Read at each scrape; nil when the store cannot answer (the scrape says so, and goes on).
        public var fleet: @Sendable () async -> (agents: [AggregatorExposition.AgentRow]?, verifyRuns: [VerifyRun]?)

        public init(
            host: String,
            port: Int,
            fleet:
                @escaping @Sendable () async -> (
                    agents: [AggregatorExposition.AgentRow]?, verifyRuns: [VerifyRun]?
                )
        ) {
            self.host = host
            self.port = port
            self.fleet = fleet
        }
    }

    /// Binds the listening socket, calls `listening` with the bound port (port 0 picks one), and runs until a
    /// signal stops it. The connection limit is fitted to the process's open-file limit first (see
    /// ``OpenFileLimit``); throws ``AggregatorError/cannotListen(_:)`` when the address cannot be bound.
    public static func run(
        _ setup: Setup,
        store: any EvidenceStore & TransparencyStore,
        logger: Logger,
        listening: (_ port: Int) -> Void,
        metricsListening: (_ port: Int) -> Void = { _ in }
    ) async throws {
        var configuration = setup.configuration
        // Once the storage is open (its files count): each connection needs a file descriptor.
        let files = OpenFileLimit.prepare(maxConnections: configuration.maxConnections)
        if let report = files.report {
            if files.isShort { logger.warning("\(report)") } else { logger.info("\(report)") }
        }
        configuration.maxConnections = files.connections
        let metrics = AggregatorMetrics()
        let server = try await IngestServer(
            configuration: configuration,
            store: store,
            metrics: metrics,
            logger: logger
        )
        // Bound before anything is announced: a port in use stops serve before it says it listens.
        var metricsService: MetricsEndpoint?
        if let wanted = setup.metrics {
            let fleet = wanted.fleet
            let endpoint: MetricsEndpoint
            do {
                endpoint = try await MetricsEndpoint(host: wanted.host, port: wanted.port, logger: logger) {
                    let (agents, runs) = await fleet()
                    return AggregatorExposition.render(metrics: metrics, agents: agents, verifyRuns: runs)
                }
            } catch {
                throw AggregatorError.cannotListen("metrics endpoint \(wanted.host):\(wanted.port): \(error)")
            }
            metricsService = endpoint
        }
        listening(server.port)
        if let metricsService { metricsListening(metricsService.port) }
        // `[v6]:port` for IPv6, as the status file and `flightlog status` show it.
        let bound =
            configuration.host.contains(":")
            ? "[\(configuration.host)]:\(server.port)" : "\(configuration.host):\(server.port)"
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            // Shut down in reverse order: the last checkpoint is signed after the server's last commit.
            .init(
                service: CheckpointService(
                    store: store,
                    signer: setup.signer,
                    intervalSeconds: setup.checkpointIntervalSeconds,
                    logger: logger
                )
            )
        ]
        if let statusPath = configuration.statusPath {
            services.append(
                .init(
                    service: StatusReporter(
                        metrics: metrics,
                        path: statusPath,
                        intervalSeconds: configuration.statusIntervalSeconds,
                        listen: bound,
                        logger: logger
                    )
                )
            )
        }
        services.append(.init(service: server))
        if let metricsService { services.append(.init(service: metricsService)) }
        if let credentials = configuration.tls {
            services.append(.init(service: TLSReloader(credentials: credentials, metrics: metrics, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

import FlightlogMetrics
import FlightlogSystem
import FlightlogTLS
import Foundation
public import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The whole agent: collector, shipper and status writer in one service group, stopped by SIGTERM or SIGINT.
public enum Agent {
    /// Runs until a signal stops it. On SIGTERM the collector commits a final batch holding the stop event and the
    /// shipper gets a few seconds to deliver it.
    public static func run(configuration: AgentConfiguration, logger: Logger) async throws {
        try configuration.validate()
        // One connection at a time needs one event loop; fewer threads keep the agent small.
        NIOSingletons.groupLoopCountSuggestion = 1
        let key = try KeyFile.load(configuration.keyPath)
        try DurableFile.makeDirectory(configuration.stateDirectory)
        let lock = try StateLock.acquire(directory: configuration.stateDirectory, purpose: "run")
        defer { withExtendedLifetime(lock) {} }
        if FileManager.default.fileExists(atPath: configuration.stateDirectory + "/rotation.pending") {
            throw AgentError.badState(
                path: configuration.stateDirectory,
                reason: "a key rotation is not finished: run `flightlog-agent rotate-key` again to finish it"
            )
        }
        let journal = try Journal(
            directory: configuration.stateDirectory,
            maxSpoolBytes: configuration.spoolMaxBytes,
            nowNanos: WallClock.nowNanos()
        )
        let counters = AgentCounters()
        let syslogQueue =
            configuration.syslog.isEnabled
            ? SyslogQueue(capacity: configuration.syslog.queueMaxMessages, counters: counters) : nil
        let collector = try await Collector(
            configuration: configuration,
            journal: journal,
            signingKey: key,
            counters: counters,
            logger: logger,
            syslog: syslogQueue
        )
        let tls: ShipperTLS?
        if configuration.insecurePlaintext {
            tls = nil
        } else {
            do {
                tls = try ShipperTLS(trust: AggregatorTrust(caPath: configuration.caPath, pins: configuration.pins))
            } catch {
                throw AgentError.configuration("\(error)")
            }
        }
        let shipper = Shipper(
            configuration: configuration,
            journal: journal,
            signingKey: key,
            counters: counters,
            logger: logger,
            tls: tls
        )
        let status = AgentStatusWriter(configuration: configuration, journal: journal, counters: counters)
        // Bound last, once everything else is ready: a socket path or address in use stops the agent here.
        var syslogServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let syslogQueue {
            let receiver = try await SyslogReceiver.bind(
                configuration: configuration.syslog,
                queue: syslogQueue,
                counters: counters,
                logger: logger
            )
            syslogServices.append(.init(service: receiver))
        }
        if let address = configuration.metricsListen {
            let endpoint: MetricsEndpoint
            do {
                endpoint = try await MetricsEndpoint(host: address.host, port: address.port, logger: logger) {
                    let spool = await journal.spoolStatus
                    return AgentExposition.render(
                        counters: counters.snapshot,
                        spoolBatches: spool.batches,
                        spoolBytes: spool.bytes,
                        spoolMaxBytes: journal.maxSpoolBytes
                    )
                }
            } catch {
                throw AgentError.configuration("metrics_listen \(address): cannot listen: \(error)")
            }
            logger.info("Serving metrics", metadata: ["url": "http://\(address.host):\(endpoint.port)/metrics"])
            syslogServices.append(.init(service: endpoint))
        }
        // Shut down in reverse order: the syslog inputs first (nothing more is received), the collector (final
        // batch), then the shipper (delivers it), then status.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: status), .init(service: shipper), .init(service: collector)]
                    + syslogServices,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

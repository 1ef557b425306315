public import FlightlogTLS
import Foundation
public import Logging
public import ServiceLifecycle
import UnixSignals
import X509

/// Reads the TLS certificate and key again on SIGHUP and when their files change (checked every few seconds), so
/// that a renewed certificate is served without a restart; sessions already open keep the one they started with. A
/// renewal that cannot serve (a key that does not match, a file half written) is logged and the previous
/// certificate stays in use.
public struct TLSReloader: Service {
    let credentials: ServerCredentials
    let metrics: AggregatorMetrics
    let logger: Logger
    let pollSeconds: Int64

    public init(credentials: ServerCredentials, metrics: AggregatorMetrics, logger: Logger, pollSeconds: Int64 = 5) {
        self.credentials = credentials
        self.metrics = metrics
        self.logger = logger
        self.pollSeconds = pollSeconds
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                let signals = await UnixSignalsSequence(trapping: .sighup)
                for await _ in signals.cancelOnGracefulShutdown() { self.reload(forced: true) }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(self.pollSeconds)) }
                    if Task.isShuttingDownGracefully { break }
                    self.reload(forced: false)
                }
            }
        }
    }

    func reload(forced: Bool) {
        do {
            let changed = forced ? try self.credentials.reload() : try self.credentials.reloadIfChanged()
            guard changed else { return }
            self.metrics.add("tls_reloads")
            let leaf = self.credentials.leaf
            self.logger.notice(
                "Serving a new TLS certificate to new connections",
                metadata: [
                    "tls.subject": "\(leaf.subject)",
                    "tls.not_after": "\(ISO8601DateFormatter().string(from: leaf.notValidAfter))",
                ]
            )
        } catch {
            self.metrics.add("tls_reload_failures")
            self.logger.error(
                "Cannot read the new TLS certificate or key; the previous one is still served",
                metadata: ["error": "\(error)"]
            )
        }
    }
}

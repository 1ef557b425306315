public import FlightlogEvidence
public import FlightlogStore
import FlightlogSystem
public import Logging
public import ServiceLifecycle

/// Signs a checkpoint of the transparency log when `serve` starts, every `interval` while the tree grows, and once
/// more on graceful shutdown, so that a checkpoint always follows the last accepted batch closely.
public struct CheckpointService: Service {
    private let store: any TransparencyStore
    private let signer: CheckpointSigner
    private let interval: Duration
    private let logger: Logger

    public init(store: any TransparencyStore, signer: CheckpointSigner, intervalSeconds: Int64, logger: Logger) {
        self.store = store
        self.signer = signer
        self.interval = .seconds(intervalSeconds)
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await self.checkpoint()
            let interval = self.interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // Batches committed during shutdown get their checkpoint too.
        await self.checkpoint()
    }

    private func checkpoint() async {
        do {
            if let signed = try await self.store.makeCheckpoint(
                signer: self.signer,
                atNanos: WallClock.nowNanos(),
                onlyWhenGrown: true
            ) {
                self.logger.info(
                    "Signed checkpoint",
                    metadata: ["tlog.size": "\(signed.checkpoint.size)", "tlog.origin": "\(signed.checkpoint.origin)"]
                )
            }
        } catch {
            self.logger.error("Checkpoint failed", metadata: ["error": "\(error)"])
        }
    }
}

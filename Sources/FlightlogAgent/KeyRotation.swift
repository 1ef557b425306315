public import Crypto
import FlightlogSystem
import FlightlogWire
import Foundation
import Glibc

/// `flightlog-agent rotate-key`: hands the agent's chain over to a new key (PROTOCOL.md §4.12).
///
/// The agent must be stopped and its spool empty (every batch acknowledged), so that the record names the head the
/// aggregator holds. The steps are ordered so that a crash at any point can be finished by running the command
/// again:
/// 1. the new key is written to `KEY.next` and the signed record to `STATE/rotation.pending` (both kept until the
///    end, so that a retry sends the very same record, which the aggregator accepts again);
/// 2. the aggregator stores the record (ROTATED);
/// 3. the chain state starts the new epoch (offsets kept: no line is read twice);
/// 4. the old key moves to `KEY.retired-<old epoch>` and the new one takes its place; the pending record goes.
public enum KeyRotation {
    public struct Outcome: Sendable {
        public var oldEpoch: UInt64
        public var newEpoch: UInt64
        public var newPublicKey: Curve25519.Signing.PublicKey
        public var retiredKeyPath: String
    }

    public static func run(configuration: AgentConfiguration, tls: ShipperTLS?) async throws -> Outcome {
        try DurableFile.makeDirectory(configuration.stateDirectory)
        let lock = try StateLock.acquire(directory: configuration.stateDirectory, purpose: "rotate-key")
        defer { withExtendedLifetime(lock) {} }
        let journal = try Journal(
            directory: configuration.stateDirectory,
            maxSpoolBytes: configuration.spoolMaxBytes,
            nowNanos: WallClock.nowNanos()
        )
        let pendingPath = configuration.stateDirectory + "/rotation.pending"
        let nextKeyPath = configuration.keyPath + ".next"
        let record: RotationRecord
        if let bytes = try DurableFile.read(pendingPath, limit: RotationRecord.length) {
            record = try Self.parse(bytes, path: pendingPath)
        } else {
            let spool = await journal.spoolStatus
            guard spool.batches == 0 else {
                throw AgentError.badState(
                    path: configuration.stateDirectory,
                    reason: "\(spool.batches) batches are not acknowledged yet: run the agent until they are "
                        + "shipped (`flightlog-agent status`), stop it, then rotate"
                )
            }
            let old = try KeyFile.load(configuration.keyPath)
            if FileManager.default.fileExists(atPath: nextKeyPath) {
                throw AgentError.keyExists(path: nextKeyPath)
            }
            let new = try KeyFile.generate(privateKeyAt: nextKeyPath)
            let position = await journal.nextBatch
            var prepared = RotationRecord(
                oldPublicKey: Bytes32(old.publicKey.rawRepresentation) ?? .zero,
                oldEpoch: position.epoch,
                oldHeadSequence: position.sequence - 1,
                oldHeadHash: position.previous,
                newPublicKey: Bytes32(new.publicKey.rawRepresentation) ?? .zero,
                newEpoch: UInt64(max(WallClock.nowNanos(), 1)),
                timeNanos: WallClock.nowNanos()
            )
            try prepared.sign(old: old, new: new)
            try DurableFile.write(prepared.bytes, to: pendingPath)
            record = prepared
        }
        let newKey = try KeyFile.load(nextKeyPath)
        guard Bytes32(newKey.publicKey.rawRepresentation) == record.newPublicKey else {
            throw AgentError.badState(path: pendingPath, reason: "names another new key than \(nextKeyPath)")
        }
        let answer = try await Enrolment.rotate(record, configuration: configuration, tls: tls)
        guard answer == .rotated(epoch: record.newEpoch) else {
            throw AgentError.protocolViolation("the aggregator answered \(answer) to the rotation")
        }
        if await journal.nextBatch.epoch != record.newEpoch {
            try await journal.startChain(epoch: record.newEpoch, nowNanos: WallClock.nowNanos())
        }
        let retired = configuration.keyPath + ".retired-\(record.oldEpoch)"
        if FileManager.default.fileExists(atPath: configuration.keyPath) {
            guard link(configuration.keyPath, retired) == 0 || errno == EEXIST else {
                throw AgentError.io(path: retired, reason: String(cString: strerror(errno)))
            }
        }
        guard rename(nextKeyPath, configuration.keyPath) == 0 else {
            throw AgentError.io(path: configuration.keyPath, reason: String(cString: strerror(errno)))
        }
        unlink(pendingPath)
        return Outcome(
            oldEpoch: record.oldEpoch,
            newEpoch: record.newEpoch,
            newPublicKey: newKey.publicKey,
            retiredKeyPath: retired
        )
    }

    private static func parse(_ bytes: [UInt8], path: String) throws(AgentError) -> RotationRecord {
        do {
            return try RotationRecord(bytes: bytes)
        } catch {
            throw AgentError.badState(path: path, reason: "not a rotation record (\(error)); move it away")
        }
    }
}

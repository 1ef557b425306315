import Crypto
import FlightlogWire
import Foundation

// MARK: - Checkpoint and inclusion proofs

extension BundleVerifier {
    /// Checks the bundle's checkpoint: present and hashed, signed by the trusted key (or, without one, by the
    /// bundle's aggregator.pub), and one of the external checkpoints when those are given. Returns it only when its
    /// signature verified: proofs against an unsigned root would prove nothing.
    static func verifyCheckpoint(
        manifest: BundleManifest,
        contents: [String: Data],
        hasBatches: Bool,
        trustedKey: CheckpointVerifier?,
        externalCheckpoints: [Result<SignedCheckpoint, EvidenceError>]?,
        report: inout BundleReport
    ) -> Checkpoint? {
        guard let transparency = manifest.transparency else {
            if hasBatches || trustedKey != nil || externalCheckpoints != nil {
                report.problems.append(
                    "manifest.json names no checkpoint: the batches carry no proof of inclusion in the aggregator's log"
                )
            }
            return nil
        }
        guard let checkpointPath = transparency.checkpoint, let keyPath = transparency.aggregatorKey else {
            report.problems.append("manifest.json: \"transparency\" names no checkpoint or aggregator_key file")
            return nil
        }
        guard let noteData = contents[checkpointPath] else {
            report.problems.append("\(checkpointPath): named by the manifest but not among the hashed files")
            return nil
        }
        let signed: SignedCheckpoint
        do throws(EvidenceError) {
            signed = try SignedCheckpoint(note: String(decoding: noteData, as: UTF8.self))
        } catch {
            report.problems.append("\(checkpointPath): \(error)")
            return nil
        }
        var bundledKey: CheckpointVerifier?
        if let keyData = contents[keyPath] {
            do throws(EvidenceError) {
                bundledKey = try CheckpointVerifier(verifierKey: String(decoding: keyData, as: UTF8.self))
            } catch {
                report.problems.append("\(keyPath): \(error)")
            }
        } else {
            report.problems.append("\(keyPath): named by the manifest but not among the hashed files")
        }
        if let trustedKey, let bundledKey, bundledKey != trustedKey {
            report.problems.append(
                "\(keyPath): the bundle's aggregator key is \(bundledKey.name), not the trusted aggregator key \(trustedKey.name)"
            )
        }
        guard let verifier = trustedKey ?? bundledKey else { return nil }
        let whose = trustedKey != nil ? "the trusted aggregator key \(verifier.name)" : "\(keyPath) (\(verifier.name))"
        do throws(EvidenceError) {
            try signed.verify(verifier)
        } catch {
            let why =
                switch error {
                case .wrongOrigin(_, let found): "it is the checkpoint of another log, \(found)"
                default: "the signature does not verify"
                }
            report.problems.append("\(checkpointPath): not signed by \(whose): \(why)")
            return nil
        }
        let checkpoint = signed.checkpoint
        if let size = transparency.treeSize, size != checkpoint.size {
            report.problems.append(
                "manifest.json: tree_size \(size), but \(checkpointPath) is signed for tree size \(checkpoint.size)"
            )
        }
        report.checkpoint = checkpoint
        report.checkpointKey = verifier.name
        report.keyTrusted = trustedKey != nil
        if let externalCheckpoints {
            Self.matchExternal(checkpoint, checkpointPath, externalCheckpoints, verifier, whose, &report)
        }
        return checkpoint
    }

    /// The bundle's checkpoint must be one of the external ones (same log, size and root); the external ones must
    /// verify under the same key.
    private static func matchExternal(
        _ checkpoint: Checkpoint,
        _ checkpointPath: String,
        _ external: [Result<SignedCheckpoint, EvidenceError>],
        _ verifier: CheckpointVerifier,
        _ whose: String,
        _ report: inout BundleReport
    ) {
        var valid: [Checkpoint] = []
        for (index, result) in external.enumerated() {
            switch result {
            case .failure(let error):
                report.problems.append("external checkpoint \(index + 1): \(error)")
            case .success(let note):
                do throws(EvidenceError) {
                    try note.verify(verifier)
                    valid.append(note.checkpoint)
                } catch {
                    report.problems.append(
                        "external checkpoint \(index + 1) (tree size \(note.checkpoint.size)): not signed by \(whose)"
                    )
                }
            }
        }
        report.matchedExternalCheckpoint = valid.contains(checkpoint)
        // Two signed roots for one size: whichever the bundle holds, the key signed a rewritten log.
        if let other = valid.first(where: {
            $0.origin == checkpoint.origin && $0.size == checkpoint.size && $0.rootHash != checkpoint.rootHash
        }) {
            report.problems.append(
                "\(checkpointPath): tree size \(checkpoint.size) has root \(Data(checkpoint.rootHash.bytes).base64EncodedString()) here but \(Data(other.rootHash.bytes).base64EncodedString()) in the external checkpoints: the log was rewritten"
            )
        } else if !report.matchedExternalCheckpoint {
            report.problems.append(
                "\(checkpointPath): tree size \(checkpoint.size) is not among the \(valid.count) external checkpoints"
            )
        }
    }

    /// Recomputes the batch's leaf (key id, epoch and sequence from the signed envelope, SHA-256 of its bytes, the
    /// receive time from the manifest) and checks its audit path against the checkpoint's root. Returns the receive
    /// time when proven.
    static func verifyInclusion(
        file: String,
        entry: BundleManifest.Batch,
        batch: SignedBatch,
        against checkpoint: Checkpoint,
        report: inout BundleReport
    ) -> Int64? {
        guard let received = entry.receivedNanos, let index = entry.leafIndex, let pathText = entry.auditPath else {
            report.problems.append("\(file): manifest.json gives no received_ns, leaf_index or audit_path for it")
            return nil
        }
        let path = pathText.compactMap { Bytes32(hex: $0) }
        guard path.count == pathText.count, pathText.count <= 64 else {
            report.problems.append("\(file): its audit_path in manifest.json is not a list of SHA-256 hashes in hex")
            return nil
        }
        let leaf = TransparencyLeaf(
            keyID: batch.keyID,
            epoch: batch.epoch,
            sequence: batch.sequence,
            receivedNanos: received,
            batchHash: batch.hash
        )
        guard
            MerkleTree.verifyInclusion(
                leafHash: leaf.hash,
                index: index,
                size: checkpoint.size,
                proof: path,
                root: checkpoint.rootHash
            )
        else {
            report.problems.append(
                "\(file): inclusion proof fails: as leaf \(index), received \(Timestamp.rfc3339(received)), its audit path does not lead to the root of the signed checkpoint at tree size \(checkpoint.size) (the batch, its receive time or the proof is not what the aggregator's log holds)"
            )
            return nil
        }
        report.proofs += 1
        return received
    }
}

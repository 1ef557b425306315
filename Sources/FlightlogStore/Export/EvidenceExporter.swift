import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// Writes an evidence bundle (``BundleFormat``): the selected events, the signed batches holding them, the agents'
/// public keys, a signed checkpoint of the aggregator's transparency log with its verifier key, a manifest of
/// SHA-256 hashes and inclusion proofs, and a README, so that a recipient can check it offline with
/// ``BundleVerifier``.
package enum EvidenceExporter {
    /// Exports what `query` selects into the new (or empty) directory `directory`, with inclusion proofs of its
    /// batches against the latest checkpoint signed by `checkpointKey` (or a fresh one when that does not cover
    /// them). Throws ``StoreError/cannotExport(_:)`` when no checkpoint can be had, or when the stored tree does not
    /// lead to the checkpoint's root; the directory then holds an incomplete bundle without manifest.json.
    package static func export(
        store: some BundleSource,
        query: EventQuery,
        to directory: String,
        checkpointKey: BundleCheckpointKey?,
        who: String,
        command: [String],
        filters: [(String, String)],
        report: ReportOptions?,
        now: Int64
    ) async throws -> ExportSummary {
        try Self.prepare(directory)
        try FileManager.default.createDirectory(atPath: directory + "/batches", withIntermediateDirectories: false)
        var files: [(path: String, bytes: Int, sha256: String)] = []

        let events = try BufferedWriter(creatingFile: directory + "/" + BundleFormat.eventsFile)
        var batchIDs: [Int64] = []
        var seenBatches = Set<Int64>()
        let count = try store.forEachEvent(query) { event in
            var line = EventJSON.encode(event)
            line.append(UInt8(ascii: "\n"))
            events.write(line)
            if seenBatches.insert(event.batchID).inserted { batchIDs.append(event.batchID) }
            return true
        }
        files.append((BundleFormat.eventsFile, events.byteCount, try events.finish() ?? ""))

        var bundled: [BundledBatch] = []
        var agentIDs = Set<Int64>()
        for batchID in batchIDs {
            guard let batch = try store.exportBatch(id: batchID) else { continue }
            agentIDs.insert(batch.agentID)
            let name = "batches/\(Self.safeName(batch.agent))-e\(batch.epoch)-s\(batch.sequence).flb"
            let writer = try BufferedWriter(creatingFile: directory + "/" + name)
            writer.write(batch.envelope)
            let hash = try writer.finish() ?? ""
            files.append((name, batch.envelope.count, hash))
            guard let leafIndex = batch.leafIndex else {
                throw StoreError.cannotExport(
                    "batch \(batch.agent) epoch \(batch.epoch) seq \(batch.sequence) is not in the transparency log"
                        + " (the store was altered: run flightlog verify)"
                )
            }
            bundled.append(BundledBatch(id: batchID, file: name, batch: batch, sha256: hash, leafIndex: leafIndex))
        }

        // The proofs: every batch against one signed tree size that covers them all.
        let covering = (bundled.map(\.leafIndex).max()).map { $0 + 1 } ?? 0
        let anchor = try await Self.checkpoint(covering: covering, store: store, key: checkpointKey)
        var batchEntries: [BundleManifest.Batch] = []
        for batch in bundled {
            var proof: InclusionProof?
            if let anchor { proof = try await Self.proof(of: batch, against: anchor.signed.checkpoint, store: store) }
            batchEntries.append(
                BundleManifest.Batch(
                    file: batch.file,
                    agent: batch.batch.agent,
                    epoch: batch.batch.epoch,
                    sequence: batch.batch.sequence,
                    batchHash: batch.batch.hash,
                    receivedNanos: proof?.leaf.receivedNanos,
                    leafIndex: proof?.leafIndex,
                    auditPath: proof?.path.map(\.hex)
                )
            )
        }
        if let anchor, let key = checkpointKey {
            let note = Array(anchor.signed.note.utf8)
            let checkpointFile = BundleFormat.checkpointFile
            files.append((checkpointFile, note.count, try Self.write(note, to: directory + "/" + checkpointFile)))
            let verifierKey = Array((key.verifier.verifierKey + "\n").utf8)
            let keyFile = BundleFormat.aggregatorKeyFile
            files.append((keyFile, verifierKey.count, try Self.write(verifierKey, to: directory + "/" + keyFile)))
        }

        let agents = try store.exportAgents(ids: agentIDs)
        var entries: [BundleKeys.Agent] = []
        for agent in agents {
            // Keys held before the current one (rotated or re-enrolled), and the signed hand-overs between them:
            // batches signed by an earlier key verify against it.
            let history = try store.exportKeyHistory(agentID: agent.id)
            entries.append(
                BundleKeys.Agent(
                    name: agent.name,
                    publicKey: Data(agent.publicKey.bytes).base64EncodedString(),
                    keyID: agent.keyID.hex,
                    enrolled: Timestamp.rfc3339(agent.enrolledNanos),
                    revoked: agent.revokedNanos.map(Timestamp.rfc3339),
                    previousKeys: history.keys.map {
                        BundleKeys.PreviousKey(
                            publicKey: Data($0.0.bytes).base64EncodedString(),
                            from: Timestamp.rfc3339($0.1),
                            until: $0.2.map(Timestamp.rfc3339) ?? "",
                            how: $0.3
                        )
                    },
                    rotations: history.rotations.map(\.hexString)
                )
            )
        }
        let keys = try BundleKeys(agents: entries).encoded()
        let keysFile = BundleFormat.keysFile
        files.append((keysFile, keys.count, try Self.write(keys, to: directory + "/" + keysFile)))

        var reportSHA256: String?
        if let report {
            // The report is a view of what the bundle holds: the same selection, its batches and checkpoint.
            let custody = IncidentReport.Custody(
                bundleDirectory: directory,
                database: store.path,
                command: command,
                batchCount: batchEntries.count,
                batches: Self.custodyBatches(batchEntries),
                agents: ReportGatherer.agents(agents, batches: Self.custodyBatches(batchEntries)),
                checkpoint: anchor.map {
                    IncidentReport.Custody.Checkpoint(
                        origin: $0.signed.checkpoint.origin,
                        treeSize: $0.signed.checkpoint.size,
                        rootHash: Data($0.signed.checkpoint.rootHash.bytes).base64EncodedString(),
                        verifierKey: checkpointKey?.verifier.verifierKey
                    )
                },
                lastVerify: nil
            )
            let model = try await ReportGatherer.report(
                store: store,
                query: query,
                options: report,
                custody: custody,
                now: now
            )
            let html = Array(ReportRenderer(limits: report.limits).render(model).utf8)
            let hash = try Self.write(html, to: directory + "/" + BundleFormat.reportFile)
            files.append((BundleFormat.reportFile, html.count, hash))
            reportSHA256 = hash
        }

        let readme = Self.readme(
            events: count,
            batches: batchIDs.count,
            agents: agents.count,
            checkpoint: anchor?.signed.checkpoint,
            who: who,
            now: now
        )
        files.append(
            (
                BundleFormat.readmeFile, readme.utf8.count,
                try Self.write(Array(readme.utf8), to: directory + "/" + BundleFormat.readmeFile)
            )
        )

        let manifest = try BundleManifest(
            format: BundleFormat.current,
            created: Timestamp.rfc3339(now),
            createdBy: who,
            command: command,
            filters: Dictionary(filters, uniquingKeysWith: { first, _ in first }),
            counts: BundleManifest.Counts(events: count, batches: batchIDs.count, agents: agents.count),
            transparency: anchor.map {
                BundleManifest.Transparency(
                    checkpoint: BundleFormat.checkpointFile,
                    aggregatorKey: BundleFormat.aggregatorKeyFile,
                    origin: $0.signed.checkpoint.origin,
                    treeSize: $0.signed.checkpoint.size
                )
            },
            batches: batchEntries,
            files: files.map { BundleManifest.File(path: $0.path, bytes: $0.bytes, sha256: $0.sha256) }
        ).encoded()
        let manifestHash = try Self.write(manifest, to: directory + "/" + BundleFormat.manifestFile)
        return ExportSummary(
            events: count,
            batches: batchIDs.count,
            agents: agents.count,
            manifestSHA256: manifestHash,
            checkpoint: anchor?.signed.checkpoint,
            signedCheckpoint: anchor?.fresh ?? false,
            reportSHA256: reportSHA256
        )
    }

    /// The manifest's batch entries as the report's custody section lists them.
    private static func custodyBatches(_ entries: [BundleManifest.Batch]) -> [IncidentReport.Custody.Batch] {
        entries.map {
            IncidentReport.Custody.Batch(
                agent: $0.agent ?? "",
                epoch: $0.epoch ?? 0,
                sequence: $0.sequence ?? 0,
                hash: $0.batchHash ?? "",
                receivedNanos: $0.receivedNanos,
                leafIndex: $0.leafIndex
            )
        }
    }

    // MARK: - Checkpoint and proofs

    /// The latest stored checkpoint (or the latest of `key.candidates`) signed by `key` when it covers the first
    /// `size` leaves, else a fresh one; nil only when nothing needs covering and no checkpoint exists.
    private static func checkpoint(
        covering size: UInt64,
        store: some BundleSource,
        key: BundleCheckpointKey?
    ) async throws -> (signed: SignedCheckpoint, fresh: Bool)? {
        guard let key else {
            if size == 0 { return nil }
            throw StoreError.cannotExport("the aggregator's verifier key is not available, so there is no checkpoint")
        }
        var candidates = key.candidates ?? []
        if key.candidates == nil { candidates = try await store.checkpoints().map(\.signed) }
        let latest = candidates.last { (try? $0.verify(key.verifier)) != nil }
        if let latest, latest.checkpoint.size >= size { return (latest, false) }
        if size == 0 { return nil }
        let have =
            latest.map { "the latest checkpoint covers \($0.checkpoint.size) leaves" }
            ?? "no checkpoint signed by \(key.verifier.name)"
        if key.candidates != nil {
            throw StoreError.cannotExport(
                "the exported batches reach leaf \(size - 1) of the transparency log, and in the given checkpoints \(have)"
            )
        }
        guard let sign = key.signFresh else {
            throw StoreError.cannotExport(
                "the exported batches reach leaf \(size - 1) of the transparency log, \(have), and the aggregator's"
                    + " private key is not available to sign one"
            )
        }
        let fresh: SignedCheckpoint
        do {
            fresh = try await sign()
        } catch {
            throw StoreError.cannotExport("could not sign a checkpoint: \(error)")
        }
        guard (try? fresh.verify(key.verifier)) != nil, fresh.checkpoint.size >= size else {
            throw StoreError.cannotExport("the freshly signed checkpoint does not cover leaf \(size - 1)")
        }
        return (fresh, true)
    }

    /// The batch's audit path, checked here against the checkpoint's root: a bundle that cannot verify is refused
    /// rather than handed over.
    private static func proof(
        of batch: BundledBatch,
        against checkpoint: Checkpoint,
        store: some BundleSource
    ) async throws -> InclusionProof {
        let what = "batch \(batch.batch.agent) epoch \(batch.batch.epoch) seq \(batch.batch.sequence)"
        guard let proof = try await store.inclusionProof(batchID: batch.id, treeSize: checkpoint.size) else {
            throw StoreError.cannotExport("\(what) has no leaf below tree size \(checkpoint.size)")
        }
        guard proof.leaf.batchHash.hex == batch.sha256,
            MerkleTree.verifyInclusion(
                leafHash: proof.leaf.hash,
                index: proof.leafIndex,
                size: checkpoint.size,
                proof: proof.path,
                root: checkpoint.rootHash
            )
        else {
            throw StoreError.cannotExport(
                "\(what) does not lead to the root of the signed checkpoint at tree size \(checkpoint.size): the store"
                    + " and that checkpoint disagree (run flightlog verify)"
            )
        }
        return proof
    }

    /// Agent names become file names: anything but letters, digits, `.`, `_` and `-` turns into `_`.
    static func safeName(_ name: String) -> String {
        let safe = String(
            String.UnicodeScalarView(
                name.unicodeScalars.map {
                    ($0.isASCII
                        && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)))
                        ? $0 : "_"
                }
            )
        )
        return safe.hasPrefix(".") ? "_" + safe : safe
    }

    private static func prepare(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, (try FileManager.default.contentsOfDirectory(atPath: directory)).isEmpty else {
                throw StoreError.cannotOpen(path: directory, reason: "the export directory must be new or empty")
            }
        } else {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws -> String {
        let writer = try BufferedWriter(creatingFile: path)
        writer.write(bytes)
        return try writer.finish() ?? ""
    }

    private static func readme(
        events: Int,
        batches: Int,
        agents: Int,
        checkpoint: Checkpoint?,
        who: String,
        now: Int64
    ) -> String {
        let anchored =
            checkpoint.map {
                "Each batch comes with an inclusion proof against checkpoint.txt: the aggregator's transparency log\n"
                    + "of \($0.size) batches, signed by \($0.origin)."
            } ?? "No batch was exported, and the aggregator had signed no checkpoint yet."
        return """
            Flightlog evidence bundle
            =========================

            Exported \(Timestamp.rfc3339(now)) by \(who): \(events) events from \(batches) signed batches of \(agents) agents.
            \(anchored)

            What is here
              events.jsonl    the selected events, one JSON object a line. "message" is the raw log line; when it is
                              not valid UTF-8, "message_b64" holds the exact bytes. "fields" holds the parsed
                              fields; a key the line carries more than once has an array of its values, in order.
                              "batch" names the signed batch (agent, epoch, seq) and the event's index inside it.
                              Times are UTC, RFC 3339.
              batches/        every signed batch that holds an exported event, byte for byte as the agent signed it
                              (format: protocol/PROTOCOL.md of Flightlog, "FLB1" envelopes, Ed25519 signatures).
              keys.json       the agents' Ed25519 public keys (base64) as enrolled on the aggregator.
              checkpoint.txt  a checkpoint of the aggregator's transparency log (an RFC 6962 Merkle tree of every
                              batch it accepted): origin, tree size, root hash, and the aggregator's Ed25519
                              signature, in the C2SP signed-note format.
              aggregator.pub  the aggregator's checkpoint verifier key (signed-note form: name+keyhash+base64 key).
              report.html     the investigator's report: timeline with gaps and findings, events over time per
                              host, matched hunt rules, chain of custody. Opens in any browser, offline; a view
                              of the files here, hashed in the manifest like them.
              manifest.json   who exported what, when, with which filters; for every batch its receive time, its
                              leaf index in the log and the audit path (RFC 6962 inclusion proof) from it to the
                              checkpoint's root; and the SHA-256 of every file above.

            How to check it, offline and without the database
              flightlog verify --bundle DIR --aggregator-key AGGREGATOR-KEY.pub
              (also spelled: flightlog verify-bundle DIR)

            It checks the SHA-256 of every file against manifest.json, every batch's Ed25519 signature against
            keys.json, that every event in events.jsonl is byte for byte the event at its index inside its signed
            batch, the checkpoint's signature, and that every batch, with its receive time, is a leaf of the signed
            tree (the leaf is recomputed from the batch bytes and the audit path must lead to the signed root).
            Exit 0 means all of that holds; any problem fails the check.

            --aggregator-key takes a copy of the aggregator's verifier key you obtained yourself, not from this
            bundle: only then does a valid checkpoint signature mean the aggregator signed it. Without it, the
            checkpoint is checked against aggregator.pub from the bundle, which anyone re-signing the bundle could
            replace. --checkpoints FILE also requires the checkpoint to be one of those in FILE (a copy of the
            aggregator's checkpoints kept off its machine).

            What it does not prove
              - The batch signatures prove which agent key produced the lines; that the key belongs to the named
                workstation rests on the enrolment record (compare keys.json with your own copy of the keys).
              - "id" is the aggregator's bookkeeping, not signed by the agent. "received" is bound by the
                aggregator's signed log, not by the agent.
              - manifest.json itself is not signed: record its SHA-256 (printed by `flightlog export`) in your case
                notes to pin the whole bundle.
              - Events outside the selection, and batches the aggregator never received, are not in the bundle.

            """
    }
}

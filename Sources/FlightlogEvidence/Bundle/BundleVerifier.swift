import Crypto
import FlightlogWire
import Foundation

/// Checks an evidence bundle written by ``EvidenceExporter`` offline, with no database: the SHA-256 of every file
/// against the manifest, every batch's Ed25519 signature against keys.json, that every exported event is byte for
/// byte the event at its index inside its signed batch, the checkpoint's signature, and every batch's inclusion
/// proof (its leaf recomputed from the batch bytes and its receive time) against the checkpoint's root.
public enum BundleVerifier {
    /// Verifies the bundle in `directory`; never throws: whatever is wrong is a problem in the report.
    ///
    /// - Parameters:
    ///   - trustedKey: the aggregator's verifier key as the caller obtained it out of band; the checkpoint must be
    ///     signed by it, and the bundle's aggregator.pub must be it. Without it the bundle's own key is used.
    ///   - externalCheckpoints: checkpoints kept off the aggregator's machine (`flightlog checkpoint --out`);
    ///     each must verify, and the bundle's checkpoint must be one of them.
    public static func verify(
        directory: String,
        trustedKey: CheckpointVerifier? = nil,
        externalCheckpoints: [Result<SignedCheckpoint, EvidenceError>]? = nil
    ) -> BundleReport {
        var report = BundleReport()
        let root = URL(fileURLWithPath: directory)
        guard
            let manifestData = FileManager.default.contents(
                atPath: root.appendingPathComponent(BundleFormat.manifestFile).path
            ),
            let manifest = BundleManifest.decode(manifestData)
        else {
            report.problems.append("manifest.json is missing or is not JSON")
            return report
        }
        guard let format = manifest.format, BundleFormat.verified.contains(format) else {
            if manifest.format == BundleFormat.withoutProofs {
                report.problems.append(
                    "manifest.json is a flightlog-evidence-bundle-1 manifest: its batches carry no inclusion proofs; export it again"
                )
            } else {
                report.problems.append(
                    "manifest.json is not a manifest of the formats "
                        + BundleFormat.verified.joined(separator: " or ")
                )
            }
            return report
        }

        // 1. Every listed file is present and hashes to what the manifest says; nothing unlisted hides among them.
        var contents: [String: Data] = [:]
        let listed = manifest.files ?? []
        for entry in listed {
            guard let path = entry.path, let expected = entry.sha256 else {
                report.problems.append("manifest.json has a file entry without path or sha256")
                continue
            }
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                report.problems.append("manifest.json lists a path outside the bundle: \(path)")
                continue
            }
            guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) else {
                report.problems.append("\(path): listed in the manifest but missing")
                continue
            }
            report.files += 1
            let actual = Array(SHA256.hash(data: data)).hexString
            if actual != expected {
                report.problems.append(
                    "\(path): SHA-256 is \(actual), the manifest says \(expected) (the file was changed)"
                )
            }
            contents[path] = data
        }
        let present =
            ((try? FileManager.default.contentsOfDirectory(
                atPath: root.appendingPathComponent(BundleFormat.batchesFolder).path
            )) ?? [])
            .map { BundleFormat.batchesFolder + "/" + $0 }
        for path in present where contents[path] == nil && !listed.contains(where: { $0.path == path }) {
            report.problems.append("\(path): present but not listed in the manifest")
        }
        // A report is optional (older bundles have none), but one that is there must be the one the manifest hashed.
        let reportPath = root.appendingPathComponent(BundleFormat.reportFile).path
        if FileManager.default.fileExists(atPath: reportPath),
            !listed.contains(where: { $0.path == BundleFormat.reportFile })
        {
            report.problems.append("\(BundleFormat.reportFile): present but not listed in the manifest")
        }

        // 2. Keys.
        var keys: [String: [Curve25519.Signing.PublicKey]] = [:]
        if let data = contents[BundleFormat.keysFile], let object = BundleKeys.decode(data) {
            for agent in object.agents ?? [] {
                guard let name = agent.name, let text = agent.publicKey, let raw = Data(base64Encoded: text) else {
                    report.problems.append("keys.json: an agent entry has no valid Ed25519 public key")
                    continue
                }
                do {
                    keys[name, default: []].append(try Ed25519.publicKey(raw))
                } catch {
                    report.problems.append("keys.json: the public key of \(name) is refused: \(error)")
                }
                // Keys held before (format 3): rotated ones must each be handed over to by a signed record.
                var handedOver: Set<[UInt8]> = []
                for hex in agent.rotations ?? [] {
                    guard let bytes = [UInt8](hex: hex), let record = try? RotationRecord(bytes: bytes) else {
                        report.problems.append("keys.json: a rotation record of \(name) does not parse")
                        continue
                    }
                    if let problem = record.signatureProblem {
                        report.problems.append("keys.json: a rotation record of \(name): \(problem)")
                        continue
                    }
                    handedOver.insert(record.newPublicKey.bytes)
                }
                for previous in agent.previousKeys ?? [] {
                    guard let text = previous.publicKey, let raw = Data(base64Encoded: text),
                        let key = try? Ed25519.publicKey(raw)
                    else {
                        report.problems.append("keys.json: a previous key of \(name) is not a valid Ed25519 key")
                        continue
                    }
                    keys[name, default: []].append(key)
                    if previous.how == "rotated" {
                        if !handedOver.contains(Array(raw)) {
                            report.problems.append(
                                "keys.json: the previous key \(Array(raw).hexString.prefix(16))… of \(name) is linked by no signed rotation record"
                            )
                        }
                    }
                }
            }
        } else {
            report.problems.append("keys.json is missing or is not JSON")
        }

        // 3. The checkpoint: its signature, under the trusted key when one is given.
        let batchEntries = manifest.batches ?? []
        let checkpoint = Self.verifyCheckpoint(
            manifest: manifest,
            contents: contents,
            hasBatches: !batchEntries.isEmpty,
            trustedKey: trustedKey,
            externalCheckpoints: externalCheckpoints,
            report: &report
        )

        // 4. Batches: inclusion in the signed log, signature, the claimed place in the chain, the events inside.
        struct BatchKey: Hashable {
            var agent: String
            var epoch: UInt64
            var sequence: UInt64
        }
        var decoded: [BatchKey: (events: [Event], receivedNanos: Int64?)] = [:]
        for entry in batchEntries {
            guard let file = entry.file, let agent = entry.agent, let epoch = entry.epoch, let sequence = entry.sequence
            else {
                report.problems.append("manifest.json has a batch entry without file, agent, epoch or seq")
                continue
            }
            guard let data = contents[file] else {
                report.problems.append("\(file): batch listed but not among the hashed files")
                continue
            }
            report.batches += 1
            guard let agentKeys = keys[agent], !agentKeys.isEmpty else {
                report.problems.append("\(file): no public key for agent \(agent) in keys.json")
                continue
            }
            do {
                let batch = try SignedBatch(bytes: Array(data))
                // The key the batch names among the agent's keys (its current one, or one it held before).
                let key = agentKeys.first { KeyID.of($0) == batch.keyID } ?? agentKeys[0]
                let provenReceipt = checkpoint.flatMap {
                    Self.verifyInclusion(file: file, entry: entry, batch: batch, against: $0, report: &report)
                }
                try batch.verifySignature(publicKey: key)
                guard batch.epoch == epoch, batch.sequence == sequence else {
                    report.problems.append(
                        "\(file): signed as epoch \(batch.epoch) seq \(batch.sequence), listed as epoch \(epoch) seq \(sequence)"
                    )
                    continue
                }
                decoded[BatchKey(agent: agent, epoch: epoch, sequence: sequence)] = (
                    try batch.decodeEvents(), provenReceipt
                )
            } catch {
                report.problems.append("\(file): \(error) — not a valid batch signed by \(agent)'s key")
            }
        }

        // 5. Events: each line must be exactly what the signed event at its index encodes to, received when the
        // signed log says its batch was.
        guard let events = contents[BundleFormat.eventsFile] else {
            report.problems.append("events.jsonl is missing")
            return report
        }
        var lineNumber = 0
        let decoder = JSONDecoder()
        for line in events.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            lineNumber += 1
            report.events += 1
            guard let object = try? decoder.decode(ExportedEventReference.self, from: Data(line)),
                let id = object.id, let receivedText = object.received, let batch = object.batch,
                let agent = batch.agent, let epoch = batch.epoch, let sequence = batch.sequence,
                let index = batch.index,
                let received = try? TimeExpression.parseInstant(receivedText, now: 0)
            else {
                report.problems.append("events.jsonl line \(lineNumber): not an exported event object")
                continue
            }
            guard let (signed, provenReceipt) = decoded[BatchKey(agent: agent, epoch: epoch, sequence: sequence)] else {
                report.problems.append(
                    "events.jsonl line \(lineNumber) (event \(id)): its batch \(agent) epoch \(epoch) seq \(sequence) was not verified"
                )
                continue
            }
            guard index >= 0, index < signed.count else {
                report.problems.append(
                    "events.jsonl line \(lineNumber) (event \(id)): batch \(agent)/\(epoch)/\(sequence) has no event \(index)"
                )
                continue
            }
            if let provenReceipt, provenReceipt != received {
                report.problems.append(
                    "events.jsonl line \(lineNumber) (event \(id)): received \(receivedText), but the signed log has batch \(agent) epoch \(epoch) seq \(sequence) received at \(Timestamp.rfc3339(provenReceipt))"
                )
            }
            let event = signed[index]
            let columns = IndexedColumns(event)
            let expected = EventJSON.encode(
                EventRecord(
                    id: id,
                    timeNanos: event.timeNanos,
                    observedNanos: event.observedNanos,
                    receivedNanos: received,
                    flags: event.flags,
                    host: event.host,
                    source: event.source,
                    program: columns.program,
                    pid: columns.pid,
                    user: columns.user,
                    sourceIP: columns.sourceIP,
                    severity: columns.severity,
                    line: event.line,
                    fieldsJSON: FieldsJSON.encode(event.fields),
                    agent: agent,
                    epoch: epoch,
                    sequence: sequence,
                    index: index,
                    batchID: 0
                ),
                // Bundles before format 4 use the stored names; before format 3 they repeat a repeated key.
                layout: BundleFormat.layout(format)
            )
            if expected != Array(line) {
                report.problems.append(
                    "events.jsonl line \(lineNumber) (event \(id)): differs from event \(index) of the signed batch \(agent) epoch \(epoch) seq \(sequence)"
                )
            }
        }
        if let expected = manifest.counts?.events, expected != report.events {
            report.problems.append("events.jsonl has \(report.events) events, the manifest says \(expected)")
        }
        return report
    }
}

/// What the verifier reads of an exported event object (``EventJSON``) before comparing the whole line with the
/// event it claims to be: its id, receive time and place in a signed batch.
struct ExportedEventReference: Decodable {
    var id: Int64?
    var received: String?
    var batch: Place?

    struct Place: Decodable {
        var agent: String?
        var epoch: UInt64?
        var sequence: UInt64?
        var index: Int?

        enum CodingKeys: String, CodingKey {
            case agent, epoch, index
            case sequence = "seq"
        }
    }
}

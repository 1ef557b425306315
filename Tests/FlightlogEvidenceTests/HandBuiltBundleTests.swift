import Crypto
import FlightlogEvidence
import FlightlogWire
import Foundation
import Testing

/// An evidence bundle made here from its parts (signed batches, event objects, keys, a signed checkpoint of their
/// leaves, inclusion proofs), with no database: what the bundle verifier accepts, and what one bad entry costs.
@Suite("Evidence bundles built by hand")
struct HandBuiltBundleTests {
    /// The files of a valid bundle of two batches of three events each, by name.
    struct Bundle {
        var files: [String: [UInt8]]
        var manifest: BundleManifest
        var keys: BundleKeys
        let verifier: CheckpointVerifier

        /// Writes the files (the manifest and keys.json from their models, hashed into the manifest) to a new
        /// directory, verifies it and removes it.
        func verify() throws -> BundleReport {
            let directory = NSTemporaryDirectory() + "flightlog-bundle-" + UUID().uuidString
            try FileManager.default.createDirectory(
                atPath: directory + "/" + BundleFormat.batchesFolder,
                withIntermediateDirectories: true
            )
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var files = self.files
            files[BundleFormat.keysFile] = try self.keys.encoded()
            var manifest = self.manifest
            manifest.files = files.keys.sorted().map { name in
                let bytes = files[name] ?? []
                return BundleManifest.File(
                    path: name,
                    bytes: bytes.count,
                    sha256: Array(SHA256.hash(data: bytes)).hexString
                )
            }
            files[BundleFormat.manifestFile] = try manifest.encoded()
            for (name, bytes) in files {
                try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
            }
            return BundleVerifier.verify(directory: directory, trustedKey: self.verifier)
        }
    }

    static func bundle() throws -> Bundle {
        let agent = Curve25519.Signing.PrivateKey()
        let aggregator = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        var batches: [SignedBatch] = []
        var previous = Bytes32.zero
        var lines: [UInt8] = []
        var leaves: [TransparencyLeaf] = []
        for sequence in UInt64(1)...2 {
            let events = (0..<3).map { index in
                Event(
                    timeNanos: 1_795_000_000_000_000_000 + Int64(sequence) * 1_000 + Int64(index),
                    observedNanos: 1_795_000_000_000_000_000,
                    host: "cc-ws-602",
                    source: "/var/log/auth.log",
                    line: Array("sshd[4242]: Accepted password for mchen from 203.0.113.\(index) port 22".utf8),
                    fields: [Event.Field("user", "mchen"), Event.Field("src_ip", "203.0.113.\(index)")]
                )
            }
            let header = BatchHeader(
                keyID: KeyID.of(agent.publicKey),
                epoch: 1,
                sequence: sequence,
                previousHash: previous,
                createdNanos: 1,
                events: events
            )
            let batch = try SignedBatch.build(events: events, header: header, signingKey: agent)
            previous = batch.hash
            batches.append(batch)
            let received = 1_795_000_100_000_000_000 + Int64(sequence)
            leaves.append(
                TransparencyLeaf(
                    keyID: batch.keyID,
                    epoch: 1,
                    sequence: sequence,
                    receivedNanos: received,
                    batchHash: batch.hash
                )
            )
            for (index, event) in events.enumerated() {
                let columns = IndexedColumns(event)
                lines +=
                    EventJSON.encode(
                        EventRecord(
                            id: Int64(sequence) * 10 + Int64(index),
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
                            agent: "cc-ws-602",
                            epoch: 1,
                            sequence: sequence,
                            index: index,
                            batchID: 0
                        )
                    ) + [UInt8(ascii: "\n")]
            }
        }
        let hashes = leaves.map(\.hash)
        // The stored roots of complete subtrees, from the leaves in memory.
        let nodes: MerkleTree.NodeSource = { level, index in
            let start = Int(index) << level
            return MerkleTree.root(Array(hashes[start..<min(start + (1 << level), hashes.count)]))
        }
        let checkpoint = Checkpoint(
            origin: aggregator.verifier.name,
            size: UInt64(hashes.count),
            rootHash: MerkleTree.root(hashes)
        )
        let signed = try aggregator.sign(checkpoint)
        var files: [String: [UInt8]] = [
            BundleFormat.eventsFile: lines,
            BundleFormat.checkpointFile: Array(signed.note.utf8),
            BundleFormat.aggregatorKeyFile: Array((aggregator.verifier.verifierKey + "\n").utf8),
        ]
        var entries: [BundleManifest.Batch] = []
        for (index, batch) in batches.enumerated() {
            let file = "\(BundleFormat.batchesFolder)/cc-ws-602-e1-s\(batch.sequence).flb"
            files[file] = batch.bytes
            entries.append(
                BundleManifest.Batch(
                    file: file,
                    agent: "cc-ws-602",
                    epoch: 1,
                    sequence: batch.sequence,
                    batchHash: batch.hash.hex,
                    receivedNanos: leaves[index].receivedNanos,
                    leafIndex: UInt64(index),
                    auditPath: try MerkleTree.inclusionProof(index: UInt64(index), size: UInt64(hashes.count), nodes)
                        .map(\.hex)
                )
            )
        }
        let manifest = BundleManifest(
            format: BundleFormat.current,
            created: Timestamp.rfc3339(1),
            createdBy: "test",
            command: ["flightlog", "export"],
            filters: [:],
            counts: BundleManifest.Counts(events: 6, batches: 2, agents: 1),
            transparency: BundleManifest.Transparency(
                checkpoint: BundleFormat.checkpointFile,
                aggregatorKey: BundleFormat.aggregatorKeyFile,
                origin: checkpoint.origin,
                treeSize: checkpoint.size
            ),
            batches: entries,
            files: []
        )
        let keys = BundleKeys(agents: [
            BundleKeys.Agent(
                name: "cc-ws-602",
                publicKey: agent.publicKey.rawRepresentation.base64EncodedString(),
                keyID: KeyID.of(agent.publicKey).hex,
                enrolled: Timestamp.rfc3339(1),
                revoked: nil,
                previousKeys: [],
                rotations: []
            )
        ])
        return Bundle(files: files, manifest: manifest, keys: keys, verifier: aggregator.verifier)
    }

    @Test func aBundleMadeFromItsPartsVerifiesWithNoDatabase() throws {
        let report = try Self.bundle().verify()
        #expect(report.isValid, "\(report.problems)")
        #expect(report.events == 6 && report.batches == 2 && report.proofs == 2 && report.keyTrusted)
    }

    /// One batch entry whose epoch is text: that entry is reported, and the other batch is still checked.
    @Test func aBatchEntryOfTheWrongTypeIsThatEntrysProblem() throws {
        var bundle = try Self.bundle()
        var manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(try bundle.manifest.encoded())) as? [String: Any]
        )
        var entries = try #require(manifest["batches"] as? [[String: Any]])
        entries[0]["epoch"] = "one"
        manifest["batches"] = entries
        bundle.manifest = try #require(
            BundleManifest.decode(try JSONSerialization.data(withJSONObject: manifest)),
            "one bad number made the whole manifest unreadable"
        )
        let report = try bundle.verify()
        #expect(report.problems.contains("manifest.json has a batch entry without file, agent, epoch or seq"))
        #expect(report.batches == 1 && report.proofs == 1, "\(report.problems)")
    }

    /// An agent entry that is not an object, and one whose key is a number: each is reported on its own.
    @Test func aKeysEntryOfTheWrongTypeIsThatEntrysProblem() throws {
        var bundle = try Self.bundle()
        var keys = try #require(
            try JSONSerialization.jsonObject(with: Data(try bundle.keys.encoded())) as? [String: Any]
        )
        var agents = try #require(keys["agents"] as? [Any])
        agents.append(["name": "cc-ws-999", "public_key": 42])
        agents.append("not an object")
        keys["agents"] = agents
        bundle.keys = try #require(BundleKeys.decode(try JSONSerialization.data(withJSONObject: keys)))
        #expect(bundle.keys.agents?.count == 3)
        let report = try bundle.verify()
        #expect(
            report.problems.filter { $0 == "keys.json: an agent entry has no valid Ed25519 public key" }.count == 2,
            "\(report.problems)"
        )
        #expect(report.batches == 2 && report.proofs == 2)
    }
}

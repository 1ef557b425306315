import Crypto
import FlightlogEvidence
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@testable import FlightlogStore

@Suite("export bundles: checkpoint and inclusion proofs")
struct BundleProofTests {
    /// A fresh export of mchen's incident events: cc-ws-602 batches 2 and 3 (leaves 1 and 2 of 5).
    private func export(_ fixture: IncidentFixture) async throws -> String {
        let out = fixture.directory.file("bundle-" + UUID().uuidString)
        let result = try await fixture.cli("export", "--user", "mchen", "--since", "2026-11-24", "--out", out)
        #expect(result.status == 0, "\(result.stderr)")
        return out
    }

    private func trustedKey(_ fixture: IncidentFixture) throws -> CheckpointVerifier {
        try AggregatorKeyFile.loadVerifier(fixture.aggregatorKey + ".pub")
    }

    @Test func bundleCarriesTheCheckpointTheKeyAndAProofPerBatch() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let trusted = try self.trustedKey(fixture)

        let note = String(decoding: try BundleFiles.read(bundle, "checkpoint.txt"), as: UTF8.self)
        let signed = try SignedCheckpoint(note: note)
        try signed.verify(trusted)
        #expect(signed.checkpoint.size == 5)
        let bundledKey = String(decoding: try BundleFiles.read(bundle, "aggregator.pub"), as: UTF8.self)
        #expect(bundledKey == trusted.verifierKey + "\n")

        let manifest = try #require(
            try JSONSerialization.jsonObject(with: try BundleFiles.read(bundle, "manifest.json")) as? [String: Any]
        )
        #expect(manifest["format"] as? String == "flightlog-evidence-bundle-4")
        let transparency = try #require(manifest["transparency"] as? [String: Any])
        #expect(transparency["checkpoint"] as? String == "checkpoint.txt")
        #expect(transparency["aggregator_key"] as? String == "aggregator.pub")
        #expect((transparency["tree_size"] as? NSNumber)?.intValue == 5)
        let hashed = (manifest["files"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(hashed.contains("checkpoint.txt") && hashed.contains("aggregator.pub"))
        let batches = try #require(manifest["batches"] as? [[String: Any]])
        #expect(batches.compactMap { ($0["leaf_index"] as? NSNumber)?.intValue }.sorted() == [1, 2])
        for batch in batches {
            #expect((batch["audit_path"] as? [String])?.isEmpty == false)
            #expect((batch["received_ns"] as? NSNumber)?.int64Value ?? 0 > 0)
        }

        let untrusted = BundleVerifier.verify(directory: bundle)
        #expect(untrusted.isValid, "\(untrusted.problems)")
        #expect(untrusted.proofs == 2)
        #expect(untrusted.checkpoint == signed.checkpoint)
        #expect(!untrusted.keyTrusted)
        let withTrust = BundleVerifier.verify(
            directory: bundle,
            trustedKey: trusted,
            externalCheckpoints: [.success(signed)]
        )
        #expect(withTrust.isValid, "\(withTrust.problems)")
        #expect(withTrust.keyTrusted)
        #expect(withTrust.matchedExternalCheckpoint)
        #expect(withTrust.proofs == 2)
    }

    enum ProofEdit: String, CaseIterable, CustomTestStringConvertible {
        case auditPathNode, leafIndex, receiveTime
        var testDescription: String { self.rawValue }
    }

    /// manifest.json is not hashed (the case notes pin it), so these edits are caught by the proofs alone.
    @Test(arguments: ProofEdit.allCases)
    func editedProofIsNamed(edit: ProofEdit) async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let file = try #require(try BundleFiles.batchFiles(bundle).first)
        try BundleFiles.editBatchEntry(bundle, file) { entry in
            switch edit {
            case .auditPathNode:
                var path = entry["audit_path"] as? [String] ?? []
                if let first = path.first {
                    path[0] = (first.first == "0" ? "1" : "0") + first.dropFirst()
                }
                entry["audit_path"] = path
            case .leafIndex:
                entry["leaf_index"] = ((entry["leaf_index"] as? NSNumber)?.intValue ?? 0) + 1
            case .receiveTime:
                entry["received_ns"] = ((entry["received_ns"] as? NSNumber)?.int64Value ?? 0) - 1
            }
        }
        let report = BundleVerifier.verify(directory: bundle)
        #expect(report.problems.count == 1, "\(report.problems)")
        #expect(report.problems.first?.hasPrefix("\(file): inclusion proof fails") == true, "\(report.problems)")
        #expect(report.proofs == 1)
        let cli = try await FlightlogCLI.run(["verify", "--bundle", bundle])
        #expect(cli.status == 1)
        #expect(cli.stdout.contains("FAIL \(file): inclusion proof fails"), "\(cli.stdout)")
    }

    @Test func reSignedBatchWithTheManifestRehashedIsCaughtByItsProofAlone() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let file = try #require(try BundleFiles.batchFiles(bundle).first)
        // The agent's own key signs the same events again with another creation time: a valid signature, the
        // same events, another batch than the one the aggregator logged.
        let original = try SignedBatch(bytes: Array(try BundleFiles.read(bundle, file)))
        let forged = try SignedBatch.build(
            events: try original.decodeEvents(),
            header: BatchHeader(
                keyID: original.keyID,
                epoch: original.epoch,
                sequence: original.sequence,
                previousHash: original.previousHash,
                createdNanos: original.createdNanos + 1,
                firstEventNanos: original.firstEventNanos,
                lastEventNanos: original.lastEventNanos
            ),
            signingKey: IncidentFixture.workstation.key
        )
        #expect(forged.bytes != original.bytes)
        try BundleFiles.replace(bundle, file, with: Data(forged.bytes))

        let report = BundleVerifier.verify(directory: bundle)
        #expect(report.problems.count == 1, "\(report.problems)")
        #expect(report.problems.first?.hasPrefix("\(file): inclusion proof fails") == true, "\(report.problems)")
    }

    @Test func editedCheckpointTextIsNamed() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let note = String(decoding: try BundleFiles.read(bundle, "checkpoint.txt"), as: UTF8.self)
        var lines = note.components(separatedBy: "\n")
        lines[1] = "6"
        try BundleFiles.replace(bundle, "checkpoint.txt", with: Data(lines.joined(separator: "\n").utf8))

        let report = BundleVerifier.verify(directory: bundle)
        #expect(!report.isValid)
        #expect(
            report.problems.contains(
                "checkpoint.txt: not signed by aggregator.pub (\(try self.trustedKey(fixture).name)): the signature does not verify"
            ),
            "\(report.problems)"
        )
        #expect(report.proofs == 0)
        #expect(try await FlightlogCLI.run(["verify", "--bundle", bundle]).status == 1)
    }

    @Test func editedCheckpointSignatureIsNamed() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let signed = try SignedCheckpoint(
            note: String(decoding: try BundleFiles.read(bundle, "checkpoint.txt"), as: UTF8.self)
        )
        var broken = signed
        broken.signatures[0].signature[10] ^= 0x40
        try BundleFiles.replace(bundle, "checkpoint.txt", with: Data(broken.note.utf8))

        let trusted = try self.trustedKey(fixture)
        let report = BundleVerifier.verify(directory: bundle, trustedKey: trusted)
        #expect(
            report.problems == [
                "checkpoint.txt: not signed by the trusted aggregator key \(trusted.name): the signature does not verify"
            ]
        )
        let cli = try await FlightlogCLI.run([
            "verify", "--bundle", bundle, "--aggregator-key", fixture.aggregatorKey + ".pub",
        ])
        #expect(cli.status == 1)
        #expect(cli.stdout.contains("FAIL checkpoint.txt: not signed by the trusted aggregator key"), "\(cli.stdout)")
    }

    @Test func checkpointReSignedByAnotherKeyFailsAgainstTheTrustedKey() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let genuine = try SignedCheckpoint(
            note: String(decoding: try BundleFiles.read(bundle, "checkpoint.txt"), as: UTF8.self)
        )
        // Someone holding another key signs the same tree and ships their own verifier key with it.
        let other = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        let forged = try other.sign(
            Checkpoint(
                origin: other.verifier.name,
                size: genuine.checkpoint.size,
                rootHash: genuine.checkpoint.rootHash
            )
        )
        try BundleFiles.replace(bundle, "checkpoint.txt", with: Data(forged.note.utf8))
        try BundleFiles.replace(bundle, "aggregator.pub", with: Data((other.verifier.verifierKey + "\n").utf8))

        // Self-consistent: only a key obtained out of band tells the difference.
        let selfConsistent = BundleVerifier.verify(directory: bundle)
        #expect(selfConsistent.isValid, "\(selfConsistent.problems)")
        #expect(!selfConsistent.keyTrusted)

        let trusted = try self.trustedKey(fixture)
        let report = BundleVerifier.verify(directory: bundle, trustedKey: trusted)
        #expect(
            report.problems == [
                "aggregator.pub: the bundle's aggregator key is \(other.verifier.name), not the trusted aggregator key \(trusted.name)",
                "checkpoint.txt: not signed by the trusted aggregator key \(trusted.name): it is the checkpoint of another log, \(other.verifier.name)",
            ]
        )
        let cli = try await FlightlogCLI.run([
            "verify", "--bundle", bundle, "--aggregator-key", fixture.aggregatorKey + ".pub",
        ])
        #expect(cli.status == 1)
        #expect(cli.stdout.contains("not the trusted aggregator key"), "\(cli.stdout)")
    }

    @Test func externalCheckpointsMustHoldTheBundlesCheckpoint() async throws {
        let fixture = try await SharedIncident.shared.get()
        let bundle = try await self.export(fixture)
        let signer = try AggregatorKeyFile.load(fixture.aggregatorKey)
        let genuine = try SignedCheckpoint(
            note: String(decoding: try BundleFiles.read(bundle, "checkpoint.txt"), as: UTF8.self)
        )
        let older = try signer.sign(
            Checkpoint(origin: signer.verifier.name, size: 2, rootHash: MerkleTree.leafHash([2]))
        )
        let file = fixture.directory.file("checkpoints-\(UUID().uuidString).txt")
        try Data((older.note + "\n" + genuine.note + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let matched = try await FlightlogCLI.run([
            "verify", "--bundle", bundle, "--aggregator-key", fixture.aggregatorKey + ".pub", "--checkpoints", file,
        ])
        #expect(matched.status == 0, "\(matched.stdout)")
        #expect(matched.stdout.contains("found in \(file)"), "\(matched.stdout)")

        // The off-site copy knows only an older size: the bundle's tree cannot be matched.
        let missing = BundleVerifier.verify(
            directory: bundle,
            trustedKey: signer.verifier,
            externalCheckpoints: [.success(older)]
        )
        #expect(missing.problems == ["checkpoint.txt: tree size 5 is not among the 1 external checkpoints"])

        // The off-site copy holds another root for the same size: the log was rewritten after it was copied.
        let fork = try signer.sign(
            Checkpoint(origin: signer.verifier.name, size: genuine.checkpoint.size, rootHash: MerkleTree.leafHash([9]))
        )
        let forked = BundleVerifier.verify(
            directory: bundle,
            trustedKey: signer.verifier,
            externalCheckpoints: [.success(fork)]
        )
        #expect(forked.problems.count == 1)
        #expect(forked.problems.first?.hasSuffix("in the external checkpoints: the log was rewritten") == true)
    }

    @Test func exportWithAnOffsiteCopyProvesAgainstItSoTheRecipientCanMatchIt() async throws {
        let fixture = try await SharedIncident.shared.get()
        let offsite = fixture.directory.file("offsite-\(UUID().uuidString).txt")
        let signer = try AggregatorKeyFile.load(fixture.aggregatorKey)
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        let mchen = ["--user", "mchen", "--since", "2026-11-24"]
        func out() -> String { fixture.directory.file("bundle-" + UUID().uuidString) }

        // The copy holds only an older tree: it cannot anchor batches beyond it, and export signs nothing.
        let older = try signer.sign(
            Checkpoint(origin: signer.verifier.name, size: 2, rootHash: try await store.treeRoot(size: 2))
        )
        try Data((older.note + "\n").utf8).write(to: URL(fileURLWithPath: offsite))
        let tooOld = try await fixture.cli("export", arguments: mchen + ["--out", out(), "--checkpoints", offsite])
        #expect(tooOld.status == 2)
        #expect(tooOld.stderr.contains("the latest checkpoint covers 2 leaves"), "\(tooOld.stderr)")
        #expect(tooOld.stderr.contains("flightlog checkpoint"), "\(tooOld.stderr)")

        // A checkpoint the store's tree does not lead to is refused, not exported.
        let bogus = try signer.sign(
            Checkpoint(origin: signer.verifier.name, size: 5, rootHash: MerkleTree.leafHash([7]))
        )
        try CheckpointFile.append(bogus, to: offsite)
        let disagreeing = try await fixture.cli(
            "export",
            arguments: mchen + ["--out", out(), "--checkpoints", offsite]
        )
        #expect(disagreeing.status == 2)
        #expect(disagreeing.stderr.contains("the store and that checkpoint disagree"), "\(disagreeing.stderr)")

        // `flightlog checkpoint --out` appends the current one; export proves against it; the recipient matches it.
        #expect(try await fixture.cli("checkpoint", "--out", offsite).status == 0)
        let bundle = out()
        let exported = try await fixture.cli("export", arguments: mchen + ["--out", bundle, "--checkpoints", offsite])
        #expect(exported.status == 0, "\(exported.stderr)")
        let matched = try await FlightlogCLI.run([
            "verify", "--bundle", bundle, "--aggregator-key", fixture.aggregatorKey + ".pub", "--checkpoints", offsite,
        ])
        // Two signed roots for one tree size in the copy are a finding even though the bundle's is among them.
        #expect(matched.status == 1, "\(matched.stdout)")
        #expect(matched.stdout.contains("found in \(offsite)"), "\(matched.stdout)")
        #expect(matched.stdout.contains("in the external checkpoints: the log was rewritten"), "\(matched.stdout)")
        let report = BundleVerifier.verify(
            directory: bundle,
            trustedKey: signer.verifier,
            externalCheckpoints: [
                .success(older),
                .success(try SignedCheckpoint(note: try #require(try await store.checkpoints().last).signed.note)),
            ]
        )
        #expect(report.isValid && report.matchedExternalCheckpoint, "\(report.problems)")
    }

    @Test func exportUsesACoveringCheckpointAndSignsOneOnlyWithThePrivateKey() async throws {
        let fixture = try await IncidentFixture.make(signCheckpoint: false)
        defer { fixture.cleanup() }
        let mchen = ["--user", "mchen", "--since", "2026-11-24"]  // leaves 1 and 2: needs tree size 3
        func out() -> String { fixture.directory.file("bundle-" + UUID().uuidString) }

        // No aggregator key at all: nothing to prove the batches against.
        let keyless = try await fixture.cli("export", arguments: mchen + ["--out", out()])
        #expect(keyless.status == 2)
        #expect(keyless.stderr.contains("--aggregator-key"), "\(keyless.stderr)")

        // A stored checkpoint of 2 leaves, and only the verifier key: not enough, and export cannot sign.
        let signer = try AggregatorKeyFile.loadOrCreate(fixture.aggregatorKey)
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        let small = try signer.sign(
            Checkpoint(origin: signer.verifier.name, size: 2, rootHash: try await store.treeRoot(size: 2))
        )
        try SQLiteShell.execute(
            fixture.database,
            "INSERT INTO checkpoints (tree_size, root_hash, signed_ns, origin, note) VALUES (2, x'\(small.checkpoint.rootHash.hex)', 1, '\(small.checkpoint.origin)', '\(small.note)')"
        )
        let publicOnly = try await fixture.cli(
            "export",
            arguments: mchen + ["--out", out(), "--aggregator-key", fixture.aggregatorKey + ".pub"]
        )
        #expect(publicOnly.status == 2)
        #expect(publicOnly.stderr.contains("the latest checkpoint covers 2 leaves"), "\(publicOnly.stderr)")

        // With the private key (serve's default place) export signs and stores a checkpoint of the whole tree.
        let signing = out()
        let signed = try await fixture.cli("export", arguments: mchen + ["--out", signing])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stdout.contains("tree size 5 (signed now)"), "\(signed.stdout)")
        #expect(try await store.checkpoints().map(\.signed.checkpoint.size) == [2, 5])
        let report = BundleVerifier.verify(directory: signing, trustedKey: signer.verifier)
        #expect(report.isValid, "\(report.problems)")
        #expect(report.checkpoint?.size == 5)

        // Now a stored checkpoint covers the batches: the verifier key is enough.
        let stored = out()
        let reused = try await fixture.cli(
            "export",
            arguments: mchen + ["--out", stored, "--aggregator-key", fixture.aggregatorKey + ".pub"]
        )
        #expect(reused.status == 0, "\(reused.stderr)")
        #expect(reused.stdout.contains("tree size 5") && !reused.stdout.contains("signed now"), "\(reused.stdout)")
        #expect(try await store.checkpoints().count == 2)
        #expect(BundleVerifier.verify(directory: stored, trustedKey: signer.verifier).isValid)
    }
}

enum CheckpointFile {
    /// Appends a note the way `flightlog checkpoint --out` does: the note and a blank line.
    static func append(_ signed: SignedCheckpoint, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((signed.note + "\n").utf8))
    }
}

import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import FlightlogWire
import Foundation

/// `flightlog verify-bundle DIR`: the first spelling of `flightlog verify --bundle DIR`, kept for scripts.
struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Check an evidence bundle offline (the same as `flightlog verify --bundle DIR`).",
        discussion: """
            Needs no database: only the bundle written by `flightlog export`. Checks the SHA-256 of every file \
            against manifest.json, every batch's Ed25519 signature against keys.json, that each batch is the one \
            the manifest says (agent, epoch, sequence), that every line of events.jsonl is byte for byte the \
            event at its index inside its signed batch, the signature of checkpoint.txt, and every batch's \
            inclusion proof: its leaf is recomputed from the batch bytes and its receive time, and its audit path \
            must lead to the checkpoint's root. Prints each problem found; any problem fails the check.

            Give --aggregator-key with a copy of the aggregator's verifier key you obtained yourself: without it \
            the checkpoint is only checked against the bundle's own aggregator.pub.

            Exit status: 0 when everything checks out, 1 when something does not, 2 when the bundle, the key or \
            the checkpoints file cannot be read.

            Examples:
              flightlog verify-bundle case-4711/
              flightlog verify-bundle case-4711/ --aggregator-key flightlog-aggregator.key.pub
            """
    )

    @Argument(help: ArgumentHelp("The bundle directory. Example: case-4711/", valueName: "dir"))
    var directory: String

    @Option(
        help: ArgumentHelp(
            "The aggregator's verifier key as you obtained it, out of band (KEY.pub, or its private key file); the "
                + "checkpoint must be signed by it. Example: --aggregator-key flightlog-aggregator.key.pub",
            valueName: "path"
        )
    )
    var aggregatorKey: String?

    @Option(
        help: ArgumentHelp(
            "Checkpoints kept off the aggregator's machine (as `flightlog checkpoint --out` appends them); the "
                + "bundle's checkpoint must be one of them. Example: --checkpoints /mnt/worm/checkpoints.txt",
            valueName: "file"
        )
    )
    var checkpoints: String?

    @Option(help: "Output format: text or json. Example: --format json")
    var format: VerifyCommand.Format = .text

    func run() throws {
        try Self.check(
            directory: self.directory,
            aggregatorKey: self.aggregatorKey,
            checkpoints: self.checkpoints,
            format: self.format
        )
    }

    /// Checks the bundle and prints the report; exits 1 on any problem, 2 when something cannot be read.
    static func check(
        directory: String,
        aggregatorKey: String?,
        checkpoints: String?,
        format: VerifyCommand.Format
    ) throws(ExitCode) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            Output.error("no bundle directory at \(directory): pass the directory `flightlog export --out` wrote")
            throw ExitCode(2)
        }
        var trustedKey: CheckpointVerifier?
        if let aggregatorKey {
            do {
                trustedKey = try AggregatorKeyFile.loadVerifier(aggregatorKey)
            } catch {
                Output.error("--aggregator-key: \(error)")
                throw ExitCode(2)
            }
        }
        var external: [Result<SignedCheckpoint, EvidenceError>]?
        if let checkpoints {
            guard let data = FileManager.default.contents(atPath: checkpoints) else {
                Output.error("cannot read checkpoints file \(checkpoints)")
                throw ExitCode(2)
            }
            let parsed = SignedCheckpoint.parseFile(String(decoding: data, as: UTF8.self))
            guard !parsed.isEmpty else {
                Output.error("\(checkpoints) holds no checkpoint")
                throw ExitCode(2)
            }
            external = parsed
        }
        let report = BundleVerifier.verify(directory: directory, trustedKey: trustedKey, externalCheckpoints: external)
        switch format {
        case .text:
            for problem in report.problems { Output.line("FAIL " + problem) }
            Output.line(Self.summary(report, checkpoints: checkpoints))
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(JSONBundleReport(report)) else { throw ExitCode(2) }
            Output.line(String(decoding: data, as: UTF8.self))
        }
        if report.files == 0 && !report.isValid { throw ExitCode(2) }
        if !report.isValid { throw ExitCode(1) }
    }

    static func summary(_ report: BundleReport, checkpoints: String?) -> String {
        var text =
            "\(report.isValid ? "OK" : "FAILED"): \(report.files) files, \(report.batches) signed batches, "
            + "\(report.events) events, \(report.proofs) inclusion proofs"
        if let checkpoint = report.checkpoint, let key = report.checkpointKey {
            text += " against checkpoint tree size \(checkpoint.size) signed by \(key)"
            text +=
                report.keyTrusted
                ? " (the trusted --aggregator-key)"
                : " (the bundle's own aggregator.pub: pass --aggregator-key to check it against a key you trust)"
            if report.matchedExternalCheckpoint, let checkpoints { text += ", found in \(checkpoints)" }
        }
        return text
    }
}

/// The `--format json` document of a bundle check.
struct JSONBundleReport: Encodable {
    struct CheckpointJSON: Encodable {
        var origin: String
        var treeSize: UInt64
        var root: String

        enum CodingKeys: String, CodingKey {
            case origin
            case treeSize = "tree_size"
            case root
        }
    }

    var valid: Bool
    var files: Int
    var batches: Int
    var events: Int
    var proofs: Int
    var checkpoint: CheckpointJSON?
    var checkpointKey: String?
    var keyTrusted: Bool
    var matchedExternalCheckpoint: Bool
    var problems: [String]

    enum CodingKeys: String, CodingKey {
        case valid, files, batches, events, proofs, checkpoint, problems
        case checkpointKey = "checkpoint_key"
        case keyTrusted = "key_trusted"
        case matchedExternalCheckpoint = "matched_external_checkpoint"
    }

    init(_ report: BundleReport) {
        self.valid = report.isValid
        self.files = report.files
        self.batches = report.batches
        self.events = report.events
        self.proofs = report.proofs
        self.checkpoint = report.checkpoint.map {
            CheckpointJSON(origin: $0.origin, treeSize: $0.size, root: Data($0.rootHash.bytes).base64EncodedString())
        }
        self.checkpointKey = report.checkpointKey
        self.keyTrusted = report.keyTrusted
        self.matchedExternalCheckpoint = report.matchedExternalCheckpoint
        self.problems = report.problems
    }
}

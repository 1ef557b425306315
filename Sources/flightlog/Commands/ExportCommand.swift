import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an evidence bundle: selected events, the signed batches holding them, keys, manifest, README.",
        discussion: """
            Takes the same filters as `flightlog query`. The output directory must be new or empty; nothing in it \
            is ever overwritten. It receives events.jsonl (the events, times in UTC), batches/*.flb (each signed \
            batch holding an exported event, byte for byte), keys.json (the agents' public keys), checkpoint.txt \
            (a signed checkpoint of the aggregator's transparency log covering every exported batch), \
            aggregator.pub (its verifier key), manifest.json (who exported what when with which filters, each \
            batch's receive time, leaf index and inclusion proof, and the SHA-256 of every file) and README.txt. \
            The SHA-256 of manifest.json is printed: put it in your case notes. The recipient checks the bundle \
            offline with `flightlog verify --bundle DIR --aggregator-key KEY.pub`.

            The checkpoint is the latest one stored that covers every exported batch. When there is none (serve \
            signs one every --checkpoint-interval seconds), export signs one with the aggregator's private key, as \
            `flightlog checkpoint` does, and stores it; it never creates a key. Without the private key (it is \
            normally readable only by the aggregator's user), export needs the verifier key KEY.pub and a stored \
            checkpoint that covers the batches, and otherwise fails with exit 2. With --checkpoints FILE the \
            latest checkpoint in that off-site copy is used instead (and nothing is signed), so that the recipient \
            can match the bundle against the same copy.

            Exit status: 0 when events were exported, 1 when none matched (the bundle is still written), 2 on an \
            error. Recorded in the audit trail.

            Examples:
              flightlog export --db flightlog.db --user mchen --since 2026-11-24 --out case-4711/
              flightlog export --db flightlog.db --ip 203.0.113.77 --since 3d --out /cases/4711/ip
              flightlog export --db /var/lib/flightlog/flightlog.db --host cc-ws-602 --out case-4711/ \\
                  --aggregator-key /var/lib/flightlog/flightlog-aggregator.key.pub
              flightlog export --db flightlog.db --user mchen --out case-4711/ --checkpoints /mnt/worm/checkpoints.txt
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(
        help: ArgumentHelp("The bundle directory to create (new or empty). Example: --out case-4711/", valueName: "dir")
    )
    var out: String

    @Option(
        help: ArgumentHelp(
            "The aggregator's checkpoint key: its private key file (lets export sign a checkpoint when no stored one "
                + "covers the export) or its verifier key KEY.pub; default: flightlog-aggregator.key next to the "
                + "database, else that file's .pub. Example: --aggregator-key /etc/flightlog/flightlog-aggregator.key",
            valueName: "path"
        )
    )
    var aggregatorKey: String?

    @Option(
        help: ArgumentHelp(
            "Prove the batches against the latest checkpoint in FILE (an off-site copy, as `flightlog checkpoint --out` "
                + "appends them) instead of a stored one, so that the recipient can match it with `verify --bundle "
                + "--checkpoints FILE`; nothing is signed. Example: --checkpoints /mnt/worm/checkpoints.txt",
            valueName: "file"
        )
    )
    var checkpoints: String?

    func run() async throws {
        let db = self.database.db
        let query = try self.filters.queryOrExit()
        let store = try Investigation.openStore(db)
        let checkpointKey = try self.checkpointKey(database: db)
        let summary: ExportSummary
        do {
            summary = try await store.export(
                query,
                to: self.out,
                checkpointKey: checkpointKey,
                who: AuditTrail.currentUser(),
                command: ["flightlog"] + Array(CommandLine.arguments.dropFirst()),
                filters: self.describedFilters(query),
                now: nowNanos()
            )
        } catch let error as StoreError {
            if case .cannotExport = error {
                let remedy =
                    self.checkpoints.map {
                        "append a checkpoint that covers the export to \($0) (`flightlog checkpoint --db \(db) --out \($0)` "
                            + "as the aggregator's user)"
                    }
                    ?? ("have a checkpoint that covers the export signed (`flightlog checkpoint --db \(db)` as the "
                        + "aggregator's user, or wait for serve's next one), or pass --aggregator-key with the "
                        + "aggregator's private key")
                Output.error(
                    "\(self.out) holds an incomplete bundle (no manifest.json): remove it. Then \(remedy), and export again."
                )
            }
            try Investigation.fail("export", database: db, error)
        } catch {
            try Investigation.fail("export", database: db, error)
        }
        try Investigation.audit(
            "export",
            database: db,
            count: summary.events,
            outcome: (summary.events > 0 ? "ok" : "no match") + " manifest sha256 \(summary.manifestSHA256)"
        )
        Output.line(
            "exported \(summary.events) events from \(summary.batches) signed batches of \(summary.agents) agents to \(self.out)"
        )
        if let checkpoint = summary.checkpoint {
            Output.line(
                "inclusion proofs against checkpoint \(checkpoint.origin) tree size \(checkpoint.size)"
                    + (summary.signedCheckpoint ? " (signed now)" : "")
            )
        }
        Output.line("manifest.json sha256 \(summary.manifestSHA256)")
        if summary.events == 0 { throw ExitCode(1) }
    }

    /// The aggregator key as this user can reach it: the private key signs a fresh checkpoint when needed (never
    /// created here: a new key would sign checkpoints nobody trusts); the verifier key only lets stored ones be used.
    private func checkpointKey(database: String) throws(ExitCode) -> BundleCheckpointKey? {
        var key = try self.aggregatorCheckpointKey(database: database)
        if let path = self.checkpoints {
            guard let data = FileManager.default.contents(atPath: path) else {
                Output.error("cannot read checkpoints file \(path)")
                throw ExitCode(2)
            }
            // Notes that do not parse are left out: the latest one that verifies is used.
            let notes = SignedCheckpoint.parseFile(String(decoding: data, as: UTF8.self)).compactMap { try? $0.get() }
            key?.candidates = notes
            key?.signFresh = nil
        }
        return key
    }

    private func aggregatorCheckpointKey(database: String) throws(ExitCode) -> BundleCheckpointKey? {
        let path = self.aggregatorKey ?? AggregatorKeyFile.defaultPath(database: database)
        if FileManager.default.isReadableFile(atPath: path), let signer = try? AggregatorKeyFile.load(path) {
            return BundleCheckpointKey(verifier: signer.verifier) {
                let store = try Storage.open(path: database, onDamagedIndex: .leaveOut)
                guard let signed = try await store.makeCheckpoint(signer: signer, atNanos: nowNanos()) else {
                    throw StoreError.cannotExport("no checkpoint was made")
                }
                return signed
            }
        }
        do {
            let verifier = try AggregatorKeyFile.loadVerifier(self.aggregatorKey == nil ? path + ".pub" : path)
            return BundleCheckpointKey(verifier: verifier, signFresh: nil)
        } catch {
            guard self.aggregatorKey == nil else {
                Output.error("--aggregator-key: \(error)")
                throw ExitCode(2)
            }
            return nil
        }
    }

    private func describedFilters(_ query: EventQuery) -> [(String, String)] {
        var out: [(String, String)] = []
        if let since = query.sinceNanos { out.append(("since", Timestamp.rfc3339(since))) }
        if let until = query.untilNanos { out.append(("until", Timestamp.rfc3339(until))) }
        for (name, value) in [
            ("host", query.host), ("agent", query.agent), ("user", query.user), ("program", query.program),
            ("source", query.source), ("ip", query.ip), ("match", query.match),
        ] {
            if let value { out.append((name, value)) }
        }
        for (index, condition) in query.conditions.enumerated() {
            out.append(("where\(index + 1)", condition.field + condition.op.rawValue + condition.value))
        }
        if let around = query.aroundEventID {
            out.append(("around", "\(around) ± \(DurationText.describe(query.aroundWindowNanos))"))
        }
        out.append(("clock", query.clock.rawValue))
        return out
    }
}

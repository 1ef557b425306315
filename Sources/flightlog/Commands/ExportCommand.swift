import ArgumentParser
import FlightlogEvidence
import FlightlogPostgres
import FlightlogSigma
import FlightlogStore
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write an evidence bundle (selected events, their signed batches, keys, manifest, README, HTML report), "
            + "or the HTML report alone.",
        discussion: """
            Takes the same filters as `flightlog query`. The output directory must be new or empty; nothing in it \
            is ever overwritten. It receives events.jsonl (the events, times in UTC), batches/*.flb (each signed \
            batch holding an exported event, byte for byte), keys.json (the agents' public keys), checkpoint.txt \
            (a signed checkpoint of the aggregator's transparency log covering every exported batch), \
            aggregator.pub (its verifier key), manifest.json (who exported what when with which filters, each \
            batch's receive time, leaf index and inclusion proof, and the SHA-256 of every file), README.txt and \
            report.html. The SHA-256 of manifest.json is printed: put it in your case notes. The recipient checks \
            the bundle offline with `flightlog verify --bundle DIR --aggregator-key KEY.pub`.

            report.html is the investigator's report, one self-contained page that opens offline in any browser: the \
            window, agents and filters; a summary; events over time per host (SVG charts); the gaps, silences and \
            findings (as `flightlog timeline` marks them, --silence sets the threshold); the incident timeline \
            across hosts (the first 500 events, then the count of the rest); the Sigma rules that matched (with \
            --rules, run as `flightlog hunt` runs them, built-in pipeline applied: each with its count and first 20 \
            events; without --rules the section says no hunt was run); the chain of custody; and how to verify the \
            bundle. Everything from the logs is escaped, and the page's Content-Security-Policy allows no script. \
            It is hashed in manifest.json like every other file. --html FILE writes the report to FILE too; \
            without --out, FILE alone is written (a view of the database, not evidence: no bundle, nothing signed).

            The checkpoint is the latest one stored that covers every exported batch. When there is none (serve \
            signs one every --checkpoint-interval seconds), export signs one with the aggregator's private key, as \
            `flightlog checkpoint` does, and stores it; it never creates a key. Without the private key (it is \
            normally readable only by the aggregator's user), export needs the verifier key KEY.pub and a stored \
            checkpoint that covers the batches, and otherwise fails with exit 2. With --checkpoints FILE the \
            latest checkpoint in that off-site copy is used instead (and nothing is signed), so that the recipient \
            can match the bundle against the same copy.

            Exit status: 0 when events were exported, 1 when none matched (the bundle or report is still written), \
            2 on an error. Recorded in the audit trail.

            Examples:
              flightlog export --db flightlog.db --user mchen --since 2026-11-24 --out case-4711/
              flightlog export --db flightlog.db --ip 203.0.113.77 --since 3d --out /cases/4711/ip
              flightlog export --db /var/lib/flightlog/flightlog.db --host cc-ws-602 --out case-4711/ \\
                  --aggregator-key /var/lib/flightlog/flightlog-aggregator.key.pub
              flightlog export --db flightlog.db --user mchen --out case-4711/ --checkpoints /mnt/worm/checkpoints.txt
              flightlog export --db flightlog.db --since 2026-11-24T09:00Z --until 2026-11-24T12:00Z \\
                  --rules aggregator/rules --out case-4711/ --html case-4711-report.html
              flightlog export --db flightlog.db --host cc-ws-602 --since 1d --html /tmp/cc-ws-602.html
              flightlog export --store postgres://flightlog@db1/flightlog --aggregator-key /etc/flightlog/site.key \\
                  --user mchen --since 1d --out case-4711/
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var store: StoreOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(
        help: ArgumentHelp("The bundle directory to create (new or empty). Example: --out case-4711/", valueName: "dir")
    )
    var out: String?

    @Option(
        help: ArgumentHelp(
            "Also write the HTML report to this new file; without --out, only the report is written (no bundle). "
                + "Example: --html case-4711.html",
            valueName: "file"
        )
    )
    var html: String?

    @Option(
        help: ArgumentHelp(
            "Sigma rules for the report's hunt section (a file or folder, repeatable, as `flightlog hunt --rules`); "
                + "default: none, no hunt. Example: --rules aggregator/rules",
            valueName: "path"
        )
    )
    var rules: [String] = []

    @Option(
        help: ArgumentHelp(
            "In the report, mark an agent silent after this long without events, as `flightlog timeline --silence`; "
                + "0 turns it off. Example: --silence 15m",
            valueName: "duration"
        )
    )
    var silence: String = "10m"

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

    func validate() throws {
        if self.out == nil && self.html == nil {
            throw ValidationError(
                "pass --out DIR (an evidence bundle, with report.html) or --html FILE (the report alone)"
            )
        }
        if self.store.store != nil, self.out != nil, self.aggregatorKey == nil, self.checkpoints == nil {
            throw ValidationError(
                "--store needs --aggregator-key: the site key the nodes sign checkpoints with (SITE.key signs a fresh "
                    + "one when needed, SITE.key.pub uses the stored ones), or --checkpoints FILE"
            )
        }
    }

    func run() async throws {
        let db = self.database.db
        let query = try self.filters.queryOrExit()
        let silenceNanos: Int64
        do {
            silenceNanos = try TimeExpression.parseDuration(self.silence)
        } catch {
            Output.error("--silence: \(error)")
            throw ExitCode(2)
        }
        if let html = self.html, FileManager.default.fileExists(atPath: html) {
            Output.error("\(html) exists: the report is never written over an existing file; choose another name")
            throw ExitCode(2)
        }
        let rules =
            try self.rules.isEmpty ? [] : HuntCommand.loadRules(self.rules, pipelines: [], defaultPipeline: true)
        let report = ReportOptions(
            rules: rules,
            rulePaths: self.rules,
            silenceNanos: silenceNanos > 0 ? silenceNanos : nil,
            who: AuditTrail.currentUser(),
            command: ["flightlog"] + Array(CommandLine.arguments.dropFirst()),
            filters: self.describedFilters(query).map { "\($0.0)=\($0.1)" }
        )
        let target = try await self.store.store == nil ? self.sqliteTarget(db) : self.postgresTarget()
        defer { target.close() }
        func fail(_ error: any Error) async throws -> Never {
            Output.error("\(error)")
            try? await target.audit(nil, "error: \(error)")
            throw ExitCode(2)
        }
        guard let out = self.out else {
            // --html FILE alone: the report, its custody section read from the store.
            guard let path = self.html else { return }
            let model: IncidentReport
            let hash: String
            do {
                model = try await target.exporter.incidentReport(query, options: report, now: nowNanos())
                hash = try Self.writeReport(model, options: report, to: path)
            } catch {
                try await fail(error)
            }
            try await target.audit(
                model.totalEvents,
                (model.totalEvents > 0 ? "ok" : "no match") + " report sha256 \(hash)"
            )
            try Self.printReportAlone(model, path: path, hash: hash)
            return
        }
        let checkpointKey = try target.checkpointKey()
        let summary: ExportSummary
        do {
            summary = try await target.exporter.export(
                query,
                to: out,
                checkpointKey: checkpointKey,
                who: report.who,
                command: report.command,
                filters: self.describedFilters(query),
                report: report,
                now: nowNanos()
            )
        } catch {
            if case .cannotExport? = error as? StoreError {
                Output.error(
                    "\(out) holds an incomplete bundle (no manifest.json): remove it. Then \(target.remedy), and export "
                        + "again."
                )
            }
            try await fail(error)
        }
        if let html = self.html {
            do {
                try FileManager.default.copyItem(atPath: out + "/" + BundleFormat.reportFile, toPath: html)
            } catch {
                Output.error("cannot write the report to \(html): \(error.localizedDescription)")
                try await fail(error)
            }
        }
        try await target.audit(
            summary.events,
            (summary.events > 0 ? "ok" : "no match") + " manifest sha256 \(summary.manifestSHA256)"
        )
        try self.printSummary(summary, out: out)
    }

    /// Where an export reads and where it is recorded: the SQLite file, or a PostgreSQL store.
    private struct ExportTarget {
        var exporter: any EvidenceExporting
        /// Appends the run's audit entry to the store's trail.
        var audit: (_ count: Int?, _ outcome: String) async throws(ExitCode) -> Void
        /// The key checkpoints are proved against (and, with the private key, signed on the store).
        var checkpointKey: () throws(ExitCode) -> BundleCheckpointKey?
        /// What to do when no checkpoint covers the export.
        var remedy: String
        var close: () -> Void = {}
    }

    /// The SQLite file of --db.
    private func sqliteTarget(_ db: String) throws(ExitCode) -> ExportTarget {
        let store = try Investigation.openStore(db)
        return ExportTarget(
            exporter: store,
            audit: { count, outcome throws(ExitCode) in
                try Investigation.audit("export", database: db, count: count, outcome: outcome)
            },
            checkpointKey: { () throws(ExitCode) in try self.checkpointKey(database: db) },
            remedy: self.checkpoints.map {
                "append a checkpoint that covers the export to \($0) (`flightlog checkpoint --db \(db) --out \($0)` "
                    + "as the aggregator's user)"
            }
                ?? ("have a checkpoint that covers the export signed (`flightlog checkpoint --db \(db)` as the "
                    + "aggregator's user, or wait for serve's next one), or pass --aggregator-key with the "
                    + "aggregator's private key")
        )
    }

    /// `--store`: the PostgreSQL store, read from `--read-replica` when given; a fresh checkpoint is signed on the
    /// primary, and the run recorded in its audit trail.
    private func postgresTarget() async throws(ExitCode) -> ExportTarget {
        guard let primary = try await self.store.openPostgres() else { throw ExitCode(2) }
        let replica: PostgresStore?
        do {
            replica = try await self.store.openReplica()
        } catch {
            primary.close()
            throw error
        }
        return ExportTarget(
            exporter: PostgresEventReader(replica ?? primary),
            audit: { count, outcome throws(ExitCode) in
                try await Investigation.audit("export", on: primary, count: count, outcome: outcome)
            },
            checkpointKey: { () throws(ExitCode) in
                try self.checkpointKey(defaultPath: "") { signer in
                    try await primary.makeCheckpoint(signer: signer, atNanos: nowNanos())
                }
            },
            remedy: "pass --aggregator-key with the site's private key (SITE.key, to sign a checkpoint on the store) "
                + "or --checkpoints FILE",
            close: {
                primary.close()
                replica?.close()
            }
        )
    }

    /// What was exported, the hashes to note; exit 1 when no event was.
    private func printSummary(_ summary: ExportSummary, out: String) throws {
        Output.line(
            "exported \(summary.events) events from \(summary.batches) signed batches of \(summary.agents) agents to \(out)"
        )
        if let checkpoint = summary.checkpoint {
            Output.line(
                "inclusion proofs against checkpoint \(checkpoint.origin) tree size \(checkpoint.size)"
                    + (summary.signedCheckpoint ? " (signed now)" : "")
            )
        }
        if let hash = summary.reportSHA256 {
            Output.line("report.html sha256 \(hash)" + (self.html.map { ", also written to \($0)" } ?? ""))
        }
        Output.line("manifest.json sha256 \(summary.manifestSHA256)")
        if summary.events == 0 { throw ExitCode(1) }
    }

    /// Writes the report to the new file `path`: created exclusively (never over an existing file, even one made
    /// since the check at the start), synced, hashed, as every file of a bundle is written. Returns its SHA-256.
    private static func writeReport(_ model: IncidentReport, options: ReportOptions, to path: String) throws -> String {
        do {
            let writer = try BufferedWriter(creatingFile: path)
            writer.write(Array(ReportRenderer(limits: options.limits).render(model).utf8))
            return try writer.finish() ?? ""
        } catch {
            Output.error("cannot write the report to \(path)")
            throw error
        }
    }

    /// What `--html` alone wrote; exit 1 when the report holds no event.
    private static func printReportAlone(_ model: IncidentReport, path: String, hash: String) throws {
        Output.line("wrote the report of \(model.totalEvents) events of \(model.agents.count) agents to \(path)")
        Output.line("report sha256 \(hash) (a view of the store, not evidence: export with --out for a bundle)")
        if model.totalEvents == 0 { throw ExitCode(1) }
    }

    /// The aggregator key as this user can reach it: the private key signs a fresh checkpoint when needed (never
    /// created here: a new key would sign checkpoints nobody trusts); the verifier key only lets stored ones be used.
    private func checkpointKey(database: String) throws(ExitCode) -> BundleCheckpointKey? {
        try self.checkpointKey(defaultPath: AggregatorKeyFile.defaultPath(database: database)) { signer in
            let store = try Storage.open(path: database, onDamagedIndex: .leaveOut)
            return try await store.makeCheckpoint(signer: signer, atNanos: nowNanos())
        }
    }

    /// ``checkpointKey(database:)`` for a key at `--aggregator-key` (else `defaultPath`), signing a fresh checkpoint
    /// with `sign` when its private key is readable.
    private func checkpointKey(
        defaultPath: String,
        sign: @escaping @Sendable (CheckpointSigner) async throws -> SignedCheckpoint?
    ) throws(ExitCode) -> BundleCheckpointKey? {
        var key = try self.aggregatorCheckpointKey(defaultPath: defaultPath, sign: sign)
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

    private func aggregatorCheckpointKey(
        defaultPath: String,
        sign: @escaping @Sendable (CheckpointSigner) async throws -> SignedCheckpoint?
    ) throws(ExitCode) -> BundleCheckpointKey? {
        let path = self.aggregatorKey ?? defaultPath
        if FileManager.default.isReadableFile(atPath: path), let signer = try? AggregatorKeyFile.load(path) {
            return BundleCheckpointKey(verifier: signer.verifier) {
                guard let signed = try await sign(signer) else {
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

import ArgumentParser
import FlightlogEvidence
import FlightlogPostgres
import FlightlogStore
import Foundation
import Glibc

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Re-check every stored batch, indexed row, the full-text index, the Merkle tree and its checkpoints; or an evidence bundle.",
        discussion: """
            For each batch: envelope, hash, Ed25519 signature under the agent's enrolled key (enrolled and not \
            revoked when received), chain link, continuous sequence numbers (a gap is a failure), no two batches per \
            sequence; its events decoded from the signed bytes must be exactly the indexed rows, field by field, and \
            the full-text index must agree. The transparency log is rebuilt and compared with the stored tree and \
            with every signed checkpoint (stored, and from --checkpoints FILE), so that deleted batches, a chain's \
            deleted tail or a deleted agent are found. Every run is recorded; --history lists them. --deep also \
            runs SQLite's own integrity check on the database and the full-text file (every index entry against \
            its row, every page): an edited index would hide rows from filtered queries.

            With --bundle DIR it checks an evidence bundle written by `flightlog export` instead, offline and with \
            no database: file hashes, batch signatures, every event against its signed batch, the checkpoint's \
            signature (under --aggregator-key, the key you trust, when given) and every batch's inclusion proof \
            against the checkpoint's root; with --checkpoints FILE the checkpoint must also be one of FILE's. \
            --db, --agent, --since, --incremental, --deep and --history do not apply to a bundle.

            With --store postgres://… it checks a PostgreSQL store (docs/SCALE-OUT.md): every batch's signature and \
            columns, chain links and heads, every event row against its signed event, the transparency log's \
            leaves and nodes, and each checkpoint against the tree and --aggregator-key (the site key); full runs \
            only, not recorded.

            Exit status: 0 clean, 1 findings, 2 could not run (usage errors included).

            Examples:
              flightlog verify --db /var/lib/flightlog/flightlog.db
              flightlog verify --db /var/lib/flightlog/flightlog.db --deep
              flightlog verify --db flightlog.db --incremental --checkpoints /mnt/worm/checkpoints.txt
              flightlog verify --db flightlog.db --agent cc-ws-602 --since 24h --format json | jq .findings
              flightlog verify --db flightlog.db --history
              flightlog verify --bundle case-4711/ --aggregator-key flightlog-aggregator.key.pub
              flightlog verify --bundle case-4711/ --aggregator-key aggregator.pub --checkpoints /mnt/worm/checkpoints.txt
              flightlog verify --store postgres://flightlog@db1/flightlog --aggregator-key /etc/flightlog/site.key.pub
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The Flightlog database file (SQLite); default: flightlog.db. Example: --db /var/lib/flightlog/flightlog.db",
            valueName: "path"
        )
    )
    var db: String?

    @OptionGroup var store: StoreOptions

    @Option(
        help: ArgumentHelp(
            "Check this evidence bundle (from `flightlog export`) offline instead of a database. Example: --bundle case-4711/",
            valueName: "dir"
        )
    )
    var bundle: String?

    @Option(help: "Output format: text or json. Example: --format json")
    var format: Format = .text

    @Option(
        help:
            "Check only this agent's batches (the tree and checkpoints are still checked whole). Example: --agent cc-ws-602"
    )
    var agent: String?

    @Option(
        help: ArgumentHelp(
            "Check only batches received since T: RFC 3339 time, or an age such as 90m, 24h, 7d. Example: --since 2026-11-24T09:00:00Z",
            valueName: "T"
        )
    )
    var since: String?

    @Flag(
        help: "Check only what arrived since the last clean run, plus the tree's new nodes and checkpoint consistency."
    )
    var incremental = false

    @Option(
        help: ArgumentHelp(
            "Also check the store against the checkpoints in FILE (as `flightlog checkpoint --out` writes); with --bundle, "
                + "the bundle's checkpoint must be one of them. Example: --checkpoints /mnt/worm/checkpoints.txt",
            valueName: "file"
        )
    )
    var checkpoints: String?

    @Option(
        help: ArgumentHelp(
            "The trusted aggregator key: its private key file or its verifier key (KEY.pub); default: "
                + "flightlog-aggregator.key next to the database; with --bundle, none (the bundle's own key is used). "
                + "Example: --aggregator-key /etc/flightlog/aggregator.key.pub",
            valueName: "path"
        )
    )
    var aggregatorKey: String?

    @Flag(
        help: ArgumentHelp(
            "Also run SQLite's integrity check on the database and the full-text file (index entries against rows, "
                + "pages); about as long again as a full run."
        )
    )
    var deep = false

    @Flag(help: "List recorded verify runs instead of verifying.")
    var history = false

    /// The database checked when no --bundle is given.
    var database: String { self.db ?? "flightlog.db" }

    func validate() throws {
        if self.bundle != nil {
            let databaseOnly = [
                ("--db", self.db != nil), ("--agent", self.agent != nil), ("--since", self.since != nil),
                ("--incremental", self.incremental), ("--deep", self.deep), ("--history", self.history),
            ].filter(\.1).map(\.0)
            if !databaseOnly.isEmpty {
                let (verb, pronoun) = databaseOnly.count == 1 ? ("applies", "it") : ("apply", "them")
                throw ValidationError(
                    "--bundle checks an exported bundle without a database; \(databaseOnly.joined(separator: ", ")) "
                        + "\(verb) only to checking a database: drop \(pronoun) or --bundle"
                )
            }
        }
        if let since = self.since, Self.parseSince(since, now: nowNanos()) == nil {
            throw ValidationError("--since takes an RFC 3339 time (2026-11-24T09:00:00Z) or an age (90m, 24h, 7d)")
        }
        if self.store.store != nil {
            let sqliteOnly = [
                ("--db", self.db != nil), ("--bundle", self.bundle != nil), ("--incremental", self.incremental),
                ("--deep", self.deep),
            ].filter(\.1).map(\.0)
            if !sqliteOnly.isEmpty {
                throw ValidationError(
                    "\(sqliteOnly.joined(separator: ", ")) cannot be used with --store (not on the PostgreSQL store yet)"
                )
            }
        }
        if self.incremental && (self.agent != nil || self.since != nil) {
            throw ValidationError("--incremental always covers every agent; drop --agent and --since")
        }
    }

    func run() async throws {
        if let bundle = self.bundle {
            try VerifyBundleCommand.check(
                directory: bundle,
                aggregatorKey: self.aggregatorKey,
                checkpoints: self.checkpoints,
                format: self.format
            )
            return
        }
        // On PostgreSQL, with --read-replica: the standby is read, the run recorded on the primary.
        if let primary = try await self.store.openPostgres() {
            defer { primary.close() }
            let replica = try await self.store.openReplica()
            defer { replica?.close() }
            if self.history {
                try await self.printHistory(runs: { try await primary.verifyRuns() })
                return
            }
            try await self.verify(read: replica ?? primary, record: primary)
            return
        }
        guard FileManager.default.fileExists(atPath: self.database) else {
            Output.error("no database at \(self.database): pass --db, or --bundle DIR to check an evidence bundle")
            throw ExitCode(2)
        }
        let store: any FlightlogStorage
        do {
            // A copy on read-only media (a write-blocked disk) is checked read-only; its run cannot be recorded. An
            // unreadable full-text file does not stop the check of the evidence: it is reported as a finding.
            store =
                Storage.isOnReadOnlyMedia(self.database)
                ? try Storage.openReadOnly(path: self.database, onDamagedIndex: .leaveOut)
                : try Storage.open(path: self.database, onDamagedIndex: .leaveOut)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        if self.history {
            try await self.printHistory(store)
            return
        }
        let external = try self.externalCheckpoints()
        let keyPath = self.aggregatorKey ?? AggregatorKeyFile.defaultPath(database: self.database)
        var verifier: CheckpointVerifier?
        do {
            verifier = try AggregatorKeyFile.loadVerifier(keyPath)
        } catch {
            if self.aggregatorKey != nil {
                Output.error("\(error)")
                throw ExitCode(2)
            }
            verifier = try? AggregatorKeyFile.loadVerifier(keyPath + ".pub")
        }
        let now = nowNanos()
        let progress = isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
        var callback: (@Sendable (Int, Int) -> Void)?
        if let progress {
            callback = { done, total in progress.update(done, total) }
        }
        var sinceNanos: Int64?
        if let since = self.since { sinceNanos = Self.parseSince(since, now: now) }
        let mode: VerifyOptions.Mode = self.incremental ? .incremental : .full
        var options = VerifyOptions(
            mode: mode,
            agentName: self.agent,
            sinceNanos: sinceNanos,
            externalCheckpoints: external,
            verifier: verifier,
            nowNanos: now,
            progress: callback
        )
        options.deep = self.deep
        try await self.report(progress: progress) { try await store.verify(options) }
    }

    /// A full run on a PostgreSQL store (`read`: the primary, or a standby), checked against the site key of
    /// --aggregator-key, and recorded on the primary (`record`).
    private func verify(read store: PostgresStore, record primary: PostgresStore) async throws {
        var verifier: CheckpointVerifier?
        if let path = self.aggregatorKey {
            do {
                verifier = try AggregatorKeyFile.loadVerifier(path)
            } catch {
                Output.error("\(error)")
                throw ExitCode(2)
            }
        }
        let now = nowNanos()
        let progress = isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
        var options = VerifyOptions(
            mode: .full,
            agentName: self.agent,
            sinceNanos: self.since.flatMap { Self.parseSince($0, now: now) },
            externalCheckpoints: try self.externalCheckpoints(),
            verifier: verifier,
            nowNanos: now
        )
        if let progress { options.progress = { done, total in progress.update(done, total) } }
        try await self.report(progress: progress) {
            let report = try await store.verifyWithoutRecording(options)
            try await primary.recordVerifyRun(report)
            return report
        }
    }

    /// The checkpoints of `--checkpoints FILE` (none without it); exit 2 when the file cannot be read or holds none.
    private func externalCheckpoints() throws(ExitCode) -> [Result<SignedCheckpoint, EvidenceError>] {
        guard let path = self.checkpoints else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            Output.error("cannot read checkpoints file \(path)")
            throw ExitCode(2)
        }
        let external = SignedCheckpoint.parseFile(String(decoding: data, as: UTF8.self))
        if external.isEmpty {
            Output.error("\(path) holds no checkpoint")
            throw ExitCode(2)
        }
        return external
    }

    /// Runs `verify`, then prints its report; exit 2 when it could not run, 1 on findings.
    private func report(progress: ProgressBar?, _ verify: () async throws -> VerifyReport) async throws {
        let report: VerifyReport
        do {
            report = try await verify()
        } catch {
            progress?.finish()
            Output.error("verify could not run: \(error)")
            throw ExitCode(2)
        }
        progress?.finish()
        try self.print(report)
    }

    private func print(_ report: VerifyReport) throws {
        switch self.format {
        case .text:
            for finding in report.findings { Output.line(Self.text(finding)) }
            Output.line(report.summary)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(JSONReport(report)) else { throw ExitCode(2) }
            Output.line(String(decoding: data, as: UTF8.self))
        }
        if !report.isClean { throw ExitCode(1) }
    }

    private func printHistory(_ store: any FlightlogStorage) async throws {
        try await self.printHistory(runs: { try await store.verifyRuns() })
    }

    /// The recorded runs `runs` reads, oldest first.
    private func printHistory(runs read: () async throws -> [VerifyRun]) async throws {
        let runs: [VerifyRun]
        do {
            runs = try await read()
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        switch self.format {
        case .text:
            var rows = [
                ["ID", "STARTED", "SECONDS", "MODE", "SCOPE", "OUTCOME", "BATCHES", "EVENTS", "FINDINGS", "TREE"]
            ]
            for run in runs {
                rows.append([
                    String(run.id), Timestamp.rfc3339(run.startedNanos),
                    String(format: "%.2f", (Double(run.finishedNanos) - Double(run.startedNanos)) / 1e9), run.mode,
                    run.scope,
                    run.outcome, String(run.batches), String(run.events), String(run.findings), String(run.treeSize),
                ])
            }
            Output.line(Output.table(rows))
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for run in runs {
                if let data = try? encoder.encode(run) { Output.line(String(decoding: data, as: UTF8.self)) }
            }
        }
    }

    static func text(_ finding: VerifyFinding) -> String {
        var parts = [finding.kind.rawValue]
        if let agent = finding.agent {
            parts.append("agent=\(agent)")
        } else if let id = finding.agentID {
            parts.append("agent_id=\(id)")
        }
        if let epoch = finding.epoch { parts.append("epoch=\(epoch)") }
        if let sequence = finding.sequence { parts.append("seq=\(sequence)") }
        if let batch = finding.batchID { parts.append("batch=\(batch)") }
        if let row = finding.rowID { parts.append("row=\(row)") }
        return parts.joined(separator: " ") + ": " + finding.detail
    }

    /// An RFC 3339 time (`2026-11-24T09:00:00Z`, fraction optional), a date or an age (`90m`, `24h`, `7d`, `30s`);
    /// nil when it is none of them or lies outside the years an `Int64` of nanoseconds holds.
    static func parseSince(_ text: String, now: Int64) -> Int64? {
        try? TimeExpression.parseInstant(text, now: now)
    }
}

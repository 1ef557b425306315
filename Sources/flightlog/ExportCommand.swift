import ArgumentParser
import FlightlogStore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an evidence bundle: selected events, the signed batches holding them, keys, manifest, README.",
        discussion: """
            Takes the same filters as `flightlog query`. The output directory must be new or empty; nothing in it
            is ever overwritten. It receives events.jsonl (the events, times in UTC), batches/*.flb (each signed
            batch holding an exported event, byte for byte), keys.json (the agents' public keys), manifest.json
            (who exported what when with which filters, and the SHA-256 of every file) and README.txt. The
            SHA-256 of manifest.json is printed: put it in your case notes. The recipient checks the bundle
            offline with `flightlog verify-bundle DIR`.

            Exit status: 0 when events were exported, 1 when none matched (the bundle is still written), 2 on an
            error. Recorded in the audit trail.

            Examples:
              flightlog export --db flightlog.db --user mchen --since 2026-11-24 --out case-4711/
              flightlog export --db flightlog.db --ip 203.0.113.77 --since 3d --out /cases/4711/ip
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var filters: EventFilterOptions

    @Option(
        help: ArgumentHelp("The bundle directory to create (new or empty). Example: --out case-4711/", valueName: "dir")
    )
    var out: String

    func run() throws {
        let db = self.database.db
        let query = try self.filters.queryOrExit()
        let store = try Investigation.openStore(db)
        let summary: ExportSummary
        do {
            summary = try EvidenceExporter.export(
                store: store,
                query: query,
                to: self.out,
                who: AuditTrail.currentUser(),
                command: ["flightlog"] + Array(CommandLine.arguments.dropFirst()),
                filters: self.describedFilters(query),
                now: nowNanos()
            )
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
        Output.line("manifest.json sha256 \(summary.manifestSHA256)")
        if summary.events == 0 { throw ExitCode(1) }
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

struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-bundle",
        abstract: "Check an evidence bundle offline: file hashes, batch signatures, and every event against its batch.",
        discussion: """
            Needs no database: only the bundle written by `flightlog export`. Checks the SHA-256 of every file
            against manifest.json, every batch's Ed25519 signature against keys.json, that each batch is the one
            the manifest says (agent, epoch, sequence), and that every line of events.jsonl is byte for byte the
            event at its index inside its signed batch. Prints each problem found.

            Exit status: 0 when everything checks out, 1 when something does not, 2 when the bundle cannot be read.

            Example:
              flightlog verify-bundle case-4711/
            """
    )

    @Argument(help: ArgumentHelp("The bundle directory. Example: case-4711/", valueName: "dir"))
    var directory: String

    func run() throws {
        let report = BundleVerifier.verify(directory: self.directory)
        for problem in report.problems { Output.line("FAIL " + problem) }
        Output.line(
            "\(report.isValid ? "OK" : "FAILED"): \(report.files) files, \(report.batches) signed batches, \(report.events) events"
        )
        if report.files == 0 && !report.isValid { throw ExitCode(2) }
        if !report.isValid { throw ExitCode(1) }
    }
}

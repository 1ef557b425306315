import ArgumentParser
import FlightlogStore
import Foundation

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Keep each line once in a store written before 2026-12-07: rows then read their line from its batch.",
        discussion: """
            Since 2026-12-07 `serve` keeps each event's raw line, parsed fields, observed time, source, severity and \
            pid only in the signed, compressed batch it arrived in (and its received time in the batch's row); rows \
            stored before still hold them in clear, and read and verify as they always did. This clears them in \
            those rows (empty, 0 or NULL), where they equal the signed batch's, so that an older store keeps each \
            value once too. A row where any of them differs from its batch is left as it is, for `flightlog verify` \
            to report: clearing it would erase the evidence of an edit.

            It runs beside a running `serve`, in transactions of --rows rows, and can be stopped and run again at \
            any time (10 M rows took 30 s on 2 cores). The database file keeps its size: the pages freed are reused \
            by new events. `sqlite3 DB VACUUM`, with `serve` stopped and as much free disk as the file, gives them \
            back to the file system.

            Exit status: 0 when done, 1 when rows were left in clear because they differ from their batch, 2 on an \
            error (a batch that no longer decodes is named: run `flightlog verify`). Recorded in the audit trail.

            Examples:
              flightlog compact --db /var/lib/flightlog/flightlog.db
              flightlog compact --db flightlog.db --rows 5000
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Rows examined per transaction (1 to 1,000,000). Example: --rows 5000")
    var rows: Int = 20_000

    func validate() throws {
        guard (1...1_000_000).contains(self.rows) else {
            throw ValidationError("--rows must be between 1 and 1000000, not \(self.rows)")
        }
    }

    func run() async throws {
        let path = self.database.db
        guard FileManager.default.fileExists(atPath: path) else {
            Output.error("\(path): no such file (pass --db with the file `flightlog serve` writes)")
            throw ExitCode(2)
        }
        let result: RowCompaction
        do {
            let store = try Storage.open(path: path, onDamagedIndex: .leaveOut)
            let started = ContinuousClock.now
            result = try await store.compactRows(rowsPerTransaction: self.rows) { progress in
                // A line per ~1 M rows: a store of 100 M rows takes a while.
                let previous = progress.throughID - Int64(self.rows)
                if progress.throughID / 1_000_000 != previous / 1_000_000 || progress.throughID == progress.lastID {
                    Output.line(
                        "compact: through event \(progress.throughID) of \(progress.lastID), \(progress.emptied) rows "
                            + "emptied, \(progress.leftInClear) left (\(started.duration(to: .now)))"
                    )
                }
            }
        } catch {
            try Investigation.fail("compact", database: path, error)
        }
        func rows(_ count: Int) -> String { count == 1 ? "1 row" : "\(count) rows" }
        var summary = "compact: \(rows(result.emptied)) now read their line and fields from their signed batch"
        if result.leftInClear > 0 {
            summary +=
                "; \(rows(result.leftInClear)) still \(result.leftInClear == 1 ? "holds" : "hold") a line or fields "
                + "that differ from the batch: "
                + "run `flightlog verify --db \(path)`"
        }
        Output.line(summary)
        try Investigation.audit(
            "compact",
            database: path,
            count: result.emptied,
            outcome: result.leftInClear == 0 ? "ok" : "\(result.leftInClear) rows differ from their batch"
        )
        if result.leftInClear > 0 { throw ExitCode(1) }
    }
}

import FlightlogEvidence
import FlightlogSystem
import Foundation
import GRDB

extension SQLiteStore {
    /// Re-checks the stored evidence (see ``IntegrityChecker``) in one consistent snapshot, then records the run in
    /// `verify_runs`. Throws only when the check could not run (unreadable database, unknown agent): findings,
    /// however many, are in the report.
    public func verify(_ options: VerifyOptions) async throws(StoreError) -> VerifyReport {
        let started = options.nowNanos
        let immutable = self.isImmutable
        let unreadableIndex = self.leftOutFullText.map { file in
            VerifyFinding(
                .storageCorrupt,
                "the full-text index \(file.path) cannot be read (\(file.reason)) and was not "
                    + "checked; the evidence (batches, rows, tree, checkpoints) was checked without it. Keep a copy, "
                    + "then start `flightlog serve`: it moves the file aside and rebuilds the index from the stored "
                    + "events"
            )
        }
        let report = try await self.read { db -> (VerifyReport, Int64, Int64) in
            var checker = try IntegrityChecker(db: db, options: options, immutable: immutable)
            try checker.run()
            var scope: [String] = []
            if let agent = options.agentName { scope.append("agent=\(agent)") }
            if let since = options.sinceNanos { scope.append("since=\(Timestamp.rfc3339(since))") }
            let report = VerifyReport(
                mode: checker.mode,
                scope: scope.isEmpty ? "all" : scope.joined(separator: ","),
                findings: unreadableIndex + checker.findings,
                batchesChecked: checker.batchesChecked,
                eventsChecked: checker.eventsChecked,
                bytesChecked: checker.bytesChecked,
                treeSize: checker.treeSize,
                checkpointsChecked: checker.checkpointsChecked,
                startedNanos: started,
                finishedNanos: Self.wallClockNanos(),
                fullTextLag: checker.fullTextLag
            )
            return (report, checker.maxBatchID, checker.maxEventID)
        }
        var result = report.0
        // A copy on read-only media cannot take the record; the report says so.
        if self.isImmutable {
            result.recorded = false
        } else {
            try await self.recordVerifyRun(result, maxBatchID: report.1, maxEventID: report.2)
        }
        return result
    }

    private func recordVerifyRun(_ report: VerifyReport, maxBatchID: Int64, maxEventID: Int64) async throws(StoreError)
    {
        try await self.write { db in
            try db.execute(
                sql: """
                    INSERT INTO verify_runs (started_ns, finished_ns, mode, scope, outcome, batches, events, findings,
                                             max_batch_id, max_event_id, tree_size, summary)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    report.startedNanos, report.finishedNanos, report.mode.rawValue, report.scope,
                    report.isClean ? "clean" : "findings", report.batchesChecked, report.eventsChecked,
                    report.findings.count, maxBatchID, maxEventID, Int64(report.treeSize), report.summary,
                ]
            )
        }
    }

    /// Recorded `verify` runs, oldest first.
    public func verifyRuns() async throws(StoreError) -> [VerifyRun] {
        try await self.verifyRuns(where: "")
    }

    /// The last recorded run of each mode (full, incremental, deep…), for the metrics endpoint: one indexed row per
    /// mode however many runs a year of 5-minute checks leaves.
    public func latestVerifyRuns() async throws(StoreError) -> [VerifyRun] {
        try await self.verifyRuns(where: "WHERE id IN (SELECT MAX(id) FROM verify_runs GROUP BY mode)")
    }

    private func verifyRuns(where filter: String) async throws(StoreError) -> [VerifyRun] {
        try await self.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, started_ns, finished_ns, mode, scope, outcome, batches, events, findings, tree_size, summary
                    FROM verify_runs \(filter) ORDER BY id
                    """
            ).map { row in
                VerifyRun(
                    id: Int64.fromDatabaseValue(row[0]) ?? 0,
                    startedNanos: Int64.fromDatabaseValue(row[1]) ?? 0,
                    finishedNanos: Int64.fromDatabaseValue(row[2]) ?? 0,
                    mode: String.fromDatabaseValue(row[3]) ?? "?",
                    scope: String.fromDatabaseValue(row[4]) ?? "?",
                    outcome: String.fromDatabaseValue(row[5]) ?? "?",
                    batches: Int64.fromDatabaseValue(row[6]) ?? 0,
                    events: Int64.fromDatabaseValue(row[7]) ?? 0,
                    findings: Int64.fromDatabaseValue(row[8]) ?? 0,
                    treeSize: Int64.fromDatabaseValue(row[9]) ?? 0,
                    summary: String.fromDatabaseValue(row[10]) ?? ""
                )
            }
        }
    }

    static func wallClockNanos() -> Int64 { WallClock.nowNanos() }
}

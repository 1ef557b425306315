import FlightlogWire
import GRDB

extension SQLiteStore {
    public func compactRows(
        rowsPerTransaction: Int,
        progress: @Sendable (RowCompaction) -> Void
    ) async throws(StoreError) -> RowCompaction {
        let lastID = try await self.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM events")
        }
        var result = RowCompaction(lastID: lastID ?? 0)
        let step = Int64(max(1, rowsPerTransaction))
        while result.throughID < result.lastID {
            let low = result.throughID
            let high = min(result.lastID, low.addingSaturating(step))
            // One short transaction per range, so that a running `serve` waits at most for one. A row is emptied
            // only when every value it holds in clear equals the batch's, compared with its storage class (a line
            // rewritten as text is not equal): an edited row keeps its edit for `verify`. The observed and received
            // times become 0, as ingest writes them since they too are read from the batch.
            let inClear = """
                (length(line) > 0 OR length(fields) > 0 OR observed_ns IS NOT 0 OR received_ns IS NOT 0
                 OR source IS NOT '' OR pid IS NOT NULL OR severity IS NOT NULL)
                """
            let (emptied, left) = try await self.write { db -> (Int, Int) in
                try db.execute(
                    sql: """
                        UPDATE events SET line = x'', fields = '', observed_ns = 0, received_ns = 0, source = '',
                                          pid = NULL, severity = NULL
                        WHERE id > ? AND id <= ? AND \(inClear)
                          AND (source IS '' OR source = event_source('', batch_id, idx))
                          AND (pid IS NULL OR pid = event_pid(NULL, batch_id, idx))
                          AND (severity IS NULL OR severity = event_severity(NULL, batch_id, idx))
                          AND (line IS x'' OR line = event_line(x'', batch_id, idx))
                          AND (fields IS '' OR fields = event_fields('', batch_id, idx))
                          AND (observed_ns IS 0 OR observed_ns = event_observed(0, batch_id, idx))
                          AND (received_ns IS 0 OR received_ns = \(EventContentFunctions.receivedColumn("events")))
                        """,
                    arguments: [low, high]
                )
                let emptied = db.changesCount
                let left =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM events WHERE id > ? AND id <= ? AND \(inClear)",
                        arguments: [low, high]
                    ) ?? 0
                return (emptied, left)
            }
            result.emptied += emptied
            result.leftInClear += left
            result.throughID = high
            progress(result)
        }
        return result
    }
}

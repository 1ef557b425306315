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
            // only when both values equal the batch's, compared with their storage class (a line rewritten as text
            // is not equal): an edited row keeps its edit for `verify`.
            let (emptied, left) = try await self.write { db -> (Int, Int) in
                try db.execute(
                    sql: """
                        UPDATE events SET line = x'', fields = ''
                        WHERE id > ? AND id <= ? AND (length(line) > 0 OR length(fields) > 0)
                          AND line = event_line(x'', batch_id, idx) AND fields = event_fields('', batch_id, idx)
                        """,
                    arguments: [low, high]
                )
                let emptied = db.changesCount
                let left =
                    try Int.fetchOne(
                        db,
                        sql:
                            "SELECT COUNT(*) FROM events WHERE id > ? AND id <= ? AND (length(line) > 0 OR length(fields) > 0)",
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

import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

extension SQLiteStore {
    /// The HTML report's model for `query`, written alone (no bundle): custody read from the store.
    public func incidentReport(_ query: EventQuery, options: ReportOptions, now: Int64) async throws -> IncidentReport {
        try await ReportGatherer.report(store: self, query: query, options: options, custody: nil, now: now)
    }

    package func lastVerifyDescription() async throws -> String? {
        try await self.verifyRuns().last?.description
    }

    /// The signed batches holding the selected events, in the order of their first selected event: agent, place in
    /// the chain, hash, receive time and transparency-log leaf.
    package func reportBatches(_ query: EventQuery) throws -> [IncidentReport.Custody.Batch] {
        try self.readTranslatingErrors(query) { db in
            var unlimited = query
            unlimited.limit = nil
            let (clause, arguments) = try Self.whereClause(db, unlimited)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.name, b.epoch, b.seq, b.hash, b.received_ns, l.leaf_index FROM batches b
                    JOIN agents a ON a.id = b.agent_id LEFT JOIN merkle_leaves l ON l.batch_id = b.id
                    WHERE b.id IN (SELECT DISTINCT e.batch_id FROM events e
                    """ + clause + ") ORDER BY b.first_event_id",
                arguments: StatementArguments(arguments)
            )
            return try rows.map { row in
                IncidentReport.Custody.Batch(
                    agent: try row.decode(String.self, atIndex: 0),
                    epoch: try row.decode(Int64.self, atIndex: 1).unsignedValue,
                    sequence: try row.decode(Int64.self, atIndex: 2).unsignedValue,
                    hash: try row.decode(Data.self, atIndex: 3).hexString,
                    receivedNanos: try row.decode(Int64.self, atIndex: 4),
                    leafIndex: Int64.fromDatabaseValue(row[5]).flatMap { $0 >= 0 ? UInt64($0) : nil }
                )
            }
        }
    }
}

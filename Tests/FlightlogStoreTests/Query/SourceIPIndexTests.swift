import FlightlogEvidence
import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// The source-IP index is led by the event-id range (`id >> 18`, migration v5): look-ups by IP must still find every
/// event, in every range, through that index, and an older database must get it on upgrade.
@Suite struct SourceIPIndexTests {
    static let ip = "203.0.113.77"
    static let rangeSize: Int64 = 1 << 18

    /// Stores `batches` × 4 events of `agent`, two of each batch's from ``ip``; returns the next sequence.
    @discardableResult
    private func stored(
        _ store: SQLiteStore,
        _ agent: TestAgent,
        agentID: Int64,
        from first: UInt64,
        batches: Int,
        previous: inout Bytes32
    ) async throws -> UInt64 {
        for sequence in first..<(first + UInt64(batches)) {
            var events = agent.events(4, prefix: "\(agent.name) b\(sequence)")
            for index in 0..<2 {
                events[index].fields.append(Event.Field("src_ip", Self.ip))
            }
            events[3].fields.append(Event.Field("src_ip", "198.51.100.\(sequence)"))
            let batch = try agent.batch(sequence: sequence, previous: previous, events: events)
            previous = batch.hash
            let outcomes = try await store.ingest([
                IngestItem(agentID: agentID, batch: batch, events: events, receivedNanos: 1)
            ])
            #expect(outcomes == [.stored])
        }
        return first + UInt64(batches)
    }

    /// Moves the newest batch's events (and the batch's first id with them) `by` ids up, as if that many events had
    /// been stored before it: the next batches continue from there.
    private func shiftNewestBatch(_ path: String, by offset: Int64) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let batch = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM batches") ?? 0
            try db.execute(sql: "UPDATE events SET id = id + ? WHERE batch_id = ?", arguments: [offset, batch])
            try db.execute(
                sql: "UPDATE batches SET first_event_id = first_event_id + ? WHERE id = ?",
                arguments: [offset, batch]
            )
        }
        try queue.close()
    }

    @Test func lookupsByIPFindEveryRangeThroughTheIndex() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let agent = TestAgent(name: "ip-ranges")
        var previous = Bytes32.zero
        var next: UInt64 = 1
        do {
            let store = try SQLiteStore(path: path)
            let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            next = try await self.stored(store, agent, agentID: record.id, from: next, batches: 3, previous: &previous)
        }
        // The third batch moves to range 2, where the fourth follows it; the fourth then moves to range 5, where
        // the fifth follows it.
        try self.shiftNewestBatch(path, by: 2 * Self.rangeSize)
        let store = try SQLiteStore(path: path)
        let agentID = try #require(try await store.agent(publicKey: agent.publicKey)?.id)
        next = try await self.stored(store, agent, agentID: agentID, from: next, batches: 1, previous: &previous)
        try self.shiftNewestBatch(path, by: 3 * Self.rangeSize)
        try await self.stored(store, agent, agentID: agentID, from: next, batches: 1, previous: &previous)

        let reader = try SQLiteStore(readOnlyPath: path)
        let ranges = try await reader.read { db in
            try Int64.fetchAll(
                db,
                sql: "SELECT DISTINCT id >> 18 FROM events WHERE src_ip = ? ORDER BY 1",
                arguments: [Self.ip]
            )
        }
        #expect(ranges == [0, 2, 5])

        var query = EventQuery()
        query.ip = Self.ip
        var found: [Int64] = []
        try reader.forEachEvent(query) { event in
            #expect(event.sourceIP == Self.ip)
            found.append(event.id)
            return true
        }
        let expected = try await reader.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM events NOT INDEXED WHERE src_ip = ?", arguments: [Self.ip])
        }
        #expect(expected.count == 10)
        #expect(found.sorted() == expected.sorted())
        #expect(try reader.countEvents(query) == 10)
        query.order = .desc
        query.limit = 3
        var newest: [Int64] = []
        try reader.forEachEvent(query) { event in
            newest.append(event.id)
            return true
        }
        let newestScanned = try await reader.read { db in
            try Int64.fetchAll(
                db,
                sql: "SELECT id FROM events NOT INDEXED WHERE src_ip = ? ORDER BY time_ns DESC, id DESC LIMIT 3",
                arguments: [Self.ip]
            )
        }
        #expect(newest == newestScanned)

        let plan = try reader.explain(EventQuery.ip(Self.ip)).plan.joined(separator: "\n")
        #expect(plan.contains("events_ip_range"), "\(plan)")
    }

    @Test func anOlderDatabaseGetsTheIndexOnUpgrade() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: "v4 full-text index in its own file")
        let before = try await queue.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'events_ip%'"
            )
        }
        #expect(before == ["events_ip_time"])
        try queue.close()

        let store = try SQLiteStore(path: path)
        let indexes = try await store.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'events_ip%'"
            )
        }
        #expect(indexes == ["events_ip_range"])
    }
}

extension EventQuery {
    fileprivate static func ip(_ value: String) -> EventQuery {
        var query = EventQuery()
        query.ip = value
        return query
    }
}

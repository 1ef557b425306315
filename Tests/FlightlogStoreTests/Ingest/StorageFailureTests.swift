import FlightlogTestSupport
import FlightlogWire
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// The evidence database runs out of space in the middle of a commit (SQLite's own `max_page_count` limit on the
/// writer's connection: the same SQLITE_FULL a full disk gives). Nothing of that commit is stored, so nothing of it
/// was acknowledged; once there is space again the writer commits as before.
@Suite struct StorageFailureTests {
    /// `freeKiB`: the room left beyond the file's free pages, from one page to about a third of what the 2,000-event
    /// batch needs.
    @Test(arguments: [16, 128, 256])
    func aCommitThatRunsOutOfSpaceStoresNothingAndTheNextOneSucceeds(freeKiB: Int) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        let agent = TestAgent(name: "full-disk")
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let first = agent.events(10, prefix: "before")
        let one = try agent.batch(sequence: 1, previous: .zero, events: first)
        // ~300-byte lines of random hex, which compress to about half: the signed batch alone (the rows keep no
        // line) is ~0.6 MB, more than the room left even with the free pages SQLite keeps (a few 64 KiB pages after
        // the migrations).
        var random = SeededRandom(state: 0x9E37_79B9_7F4A_7C15)
        let events = agent.events(2_000, prefix: "full-disk").map { event in
            var event = event
            event.line += (0..<19).flatMap { _ in Array(String(random.next(), radix: 16).utf8) }
            return event
        }
        let two = try agent.batch(sequence: 2, previous: one.hash, events: events)
        let items = try [
            IngestItem(agentID: record.id, batch: one, events: first, receivedNanos: 1),
            IngestItem(agentID: record.id, batch: two, events: events, receivedNanos: 1),
        ]
        #expect(try await store.ingest([items[0]]) == [.stored])

        let (pages, pageSize) = try await store.pool.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0, try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
        }
        let freePages = max(1, freeKiB * 1024 / pageSize)
        try await store.pool.write { db in try db.execute(sql: "PRAGMA max_page_count = \(pages + freePages)") }
        let error = await #expect(throws: (any Error).self) { try await store.ingest([items[1]]) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("full"))
        #expect(try await store.counts().events == 10)

        try await store.pool.write { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        // First a transaction of another kind: the agent's next handshake is recorded before its batches.
        try await store.recordHandshake(
            HandshakeRecord(
                atNanos: 2,
                peer: "127.0.0.1:1",
                publicKey: nil,
                agentID: record.id,
                agentName: agent.name,
                epoch: 1,
                skewNanos: 0,
                outcome: "accepted"
            )
        )
        #expect(try await store.ingest([items[1]]) == [.stored])
        #expect(try await store.ingest([items[1]]) == [.duplicate])
        #expect(try await store.counts().events == 2_010)
    }
}

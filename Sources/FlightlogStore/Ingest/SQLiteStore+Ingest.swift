import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

extension SQLiteStore {
    public func agent(publicKey: Bytes32) async throws -> AgentRecord? {
        let key = publicKey.data
        return try await self.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM agents WHERE public_key = ?", arguments: [key]).flatMap {
                try AgentRecord(row: $0)
            }
        }
    }

    public func chainHead(agentID: Int64, epoch: UInt64) async throws -> ChainLink.Head? {
        try await self.read { db in try Self.head(db, agentID: agentID, epoch: epoch) }
    }

    public func ingest(_ items: [IngestItem]) async throws -> [IngestOutcome] {
        for indexer in self.indexers { await indexer.waitForLag(atMost: Self.maxFullTextLag) }
        await self.checkpointer?.catchUpIfNeeded()
        let known = self.knownCatalogue.withLock { $0 }
        let (outcomes, latest, added, stored) = try await self.write { db in
            var outcomes: [IngestOutcome] = []
            outcomes.reserveCapacity(items.count)
            var stored: [(id: Int64, layout: EventLayout)] = []
            // The first batch refused per chain: a later batch of that chain in this transaction is held back, not
            // stored after a gap the refusal made (PROTOCOL.md §7.4 rule 4).
            var refused: [ChainKey: UInt64] = [:]
            for item in items {
                let chain = ChainKey(agentID: item.agentID, epoch: item.batch.epoch)
                if let first = refused[chain], first < item.batch.sequence {
                    outcomes.append(.heldBack(after: first))
                    continue
                }
                let outcome = try Self.ingest(db, item, stored: &stored)
                if case .refused = outcome, refused[chain] == nil { refused[chain] = item.batch.sequence }
                outcomes.append(outcome)
            }
            // The catalogue's names that this process has not written yet: a few per batch at most, after the first.
            var added: Set<CatalogueName> = []
            for (item, outcome) in zip(items, outcomes) where outcome == .stored {
                for name in item.catalogue.names where !known.contains(name) { added.insert(name) }
            }
            if !added.isEmpty {
                let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO catalogue (kind, name) VALUES (?, ?)")
                for name in added { try insert.execute(arguments: [name.kind, name.name]) }
            }
            let latest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM events") ?? 0
            return (outcomes, latest, added, stored)
        }
        // Committed: the indexers may read these rows now, and their lines and fields from here.
        self.recentBatches?.add(stored)
        if !added.isEmpty { self.knownCatalogue.withLock { $0.formUnion(added) } }
        for indexer in self.indexers { indexer.noteCommitted(latestEventID: latest) }
        self.checkpointer?.noteCommitted()
        return outcomes
    }

    public func recordHandshake(_ record: HandshakeRecord) async throws {
        try await self.write { db in
            try db.execute(
                sql: """
                    INSERT INTO handshakes (at_ns, peer, public_key, agent_id, agent_name, epoch, skew_ns, outcome)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.atNanos, record.peer, record.publicKey?.data, record.agentID, record.agentName,
                    record.epoch?.sqlValue, record.skewNanos, record.outcome,
                ]
            )
            if let agentID = record.agentID, record.outcome == "accepted" {
                try db.execute(
                    sql: "UPDATE agents SET last_seen_ns = ?, last_skew_ns = ?, last_address = ? WHERE id = ?",
                    arguments: [record.atNanos, record.skewNanos, record.peer, agentID]
                )
            }
        }
    }

    public func recordFinding(_ finding: ChainFinding) async throws {
        try await self.write { db in try Self.insert(db, finding) }
    }

    public func touchAgent(id: Int64, atNanos: Int64) async throws {
        try await self.write { db in
            try db.execute(
                sql: "UPDATE agents SET last_seen_ns = MAX(COALESCE(last_seen_ns, 0), ?) WHERE id = ?",
                arguments: [atNanos, id]
            )
        }
    }

    /// One agent's chain: (agent, epoch).
    private struct ChainKey: Hashable {
        var agentID: Int64
        var epoch: UInt64
    }

    // MARK: - Inside the write transaction

    static func head(_ db: Database, agentID: Int64, epoch: UInt64) throws -> ChainLink.Head? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT head_seq, head_hash FROM chains WHERE agent_id = ? AND epoch = ?"),
                arguments: [agentID, epoch.sqlValue]
            ),
            let hash = Bytes32(data: try row.decode(Data?.self, forColumn: "head_hash"))
        else { return nil }
        return ChainLink.Head(sequence: try row.decode(Int64.self, forColumn: "head_seq").unsignedValue, hash: hash)
    }

    /// Stores `item` when its chain allows, appending its batch id and decoded payload to `stored`.
    private static func ingest(
        _ db: Database,
        _ item: IngestItem,
        stored batches: inout [(id: Int64, layout: EventLayout)]
    ) throws -> IngestOutcome {
        let batch = item.batch
        // Revocation takes effect on live sessions too: checked in the transaction that would store the batch, by
        // the rule `verify` applies afterwards (a batch received at or after the revocation is not valid evidence).
        let revoked = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT revoked_ns FROM agents WHERE id = ?"),
            arguments: [item.agentID]
        )
        if let revoked, item.receivedNanos >= revoked {
            return try Self.record(db, .revoked(item, revokedNanos: revoked))
        }
        let head = try Self.head(db, agentID: item.agentID, epoch: batch.epoch)
        let link = ChainLink.classify(sequence: batch.sequence, previousHash: batch.previousHash, head: head)
        let hash = batch.hash
        switch link {
        case .alreadySeen:
            let stored = try Data.fetchOne(
                db,
                sql: "SELECT hash FROM batches WHERE agent_id = ? AND epoch = ? AND seq = ?",
                arguments: [item.agentID, batch.epoch.sqlValue, batch.sequence.sqlValue]
            )
            if let stored {
                if stored == hash.data { return .duplicate }
                return try Self.record(db, .equivocation(item, stored: Array(stored)))
            }
            _ = try Self.record(db, .late(item))
            let batchID = try Self.store(db, item, hash: hash, moveHead: false)
            batches.append((id: batchID, layout: item.layout))
            return .stored
        case .broken:
            return try Self.record(db, .broken(item))
        case .genesis, .gap, .extends:
            if head == nil {
                let others =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM chains WHERE agent_id = ? AND epoch != ?",
                        arguments: [item.agentID, batch.epoch.sqlValue]
                    ) ?? 0
                // A chain a signed rotation started is the old chain's continuation, not a wiped agent.
                let rotation =
                    try Int.fetchOne(
                        db.cachedStatement(sql: "SELECT COUNT(*) FROM rotations WHERE agent_id = ? AND new_epoch = ?"),
                        arguments: [item.agentID, batch.epoch.sqlValue]
                    ) ?? 0
                if others > 0 && rotation == 0 { _ = try Self.record(db, .newEpoch(item)) }
            }
            if case .gap(let missing) = link { _ = try Self.record(db, .gap(item, missing: missing)) }
            let batchID = try Self.store(db, item, hash: hash, moveHead: true)
            batches.append((id: batchID, layout: item.layout))
            return .stored
        }
    }

    /// Records `ruling`'s finding; returns its outcome (`.stored` for a ruling that does not refuse the batch).
    private static func record(_ db: Database, _ ruling: ChainRuling) throws -> IngestOutcome {
        try Self.insert(db, ruling.finding)
        return ruling.outcome ?? .stored
    }

    /// Inserts the batch and its rows; returns the batch's id.
    private static func store(_ db: Database, _ item: IngestItem, hash: Bytes32, moveHead: Bool) throws -> Int64 {
        let batch = item.batch
        // Cached statements: this runs once per batch, and a fleet sends many small ones.
        let firstEventID =
            (try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM events"))) ?? 1
        // Ids run from 1 up, one per event: 2^63 − 1 of them is beyond any store, so an id near it was written by
        // hand. Refusing the batch (storageFailure, retried) beats trapping on every batch of every agent.
        guard firstEventID >= 1, firstEventID <= Int64.max - Int64(batch.eventCount) else {
            throw StoreError.database(
                "no event id left after the largest stored one (\(firstEventID.subtractingSaturating(1)))"
            )
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO batches (agent_id, epoch, seq, hash, prev_hash, created_ns, first_ns, last_ns, event_count,
                                     received_ns, first_event_id, envelope)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            item.agentID, batch.epoch.sqlValue, batch.sequence.sqlValue, hash.data, batch.previousHash.data,
            batch.createdNanos, batch.firstEventNanos, batch.lastEventNanos, batch.eventCount, item.receivedNanos,
            firstEventID, Data(batch.bytes),
        ])
        let batchID = db.lastInsertedRowID
        try TransparencyLog.append(db, batchID: batchID, leaf: TransparencyLeaf(item, hash: hash))
        // The line, the `fields` JSON, the observed time, the source, severity and pid stay in the signed batch just
        // stored, compressed, and nowhere else, and the received time in the batch's row: the event's row holds the
        // empty markers, zeros and NULLs that EventContentFunctions reads them back through (~270 bytes a line less
        // in the table and its WAL, 16 for the two times, as many as the source path has for it). The row keeps what
        // a B-tree index or a filter without the batch needs: time, host, program, user and source IP.
        let insertEvent = try db.cachedStatement(
            sql: """
                INSERT INTO events (id, batch_id, idx, agent_id, time_ns, observed_ns, received_ns, flags, host, source,
                                    program, pid, user, src_ip, severity, line, fields)
                VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, ?8, ?9, '', ?11, NULL, ?13, ?14, NULL, x'', '')
                """
        )
        // Raw binds: this loop runs once per stored event on the single writer, so it avoids building
        // StatementArguments per row.
        let events = insertEvent.sqliteStatement
        try item.withRows { index, entry, columns, payload in
            func bytes(_ span: EventLayout.Span) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: payload[span.start..<(span.start + span.count)])
            }
            sqlite3_reset(events)
            sqlite3_bind_int64(events, 1, firstEventID + Int64(index))
            sqlite3_bind_int64(events, 2, batchID)
            sqlite3_bind_int64(events, 3, Int64(index))
            sqlite3_bind_int64(events, 4, item.agentID)
            sqlite3_bind_int64(events, 5, entry.timeNanos)
            sqlite3_bind_int64(events, 8, Int64(entry.flags.rawValue))
            RawBind.text(events, 9, bytes(entry.host))
            RawBind.text(events, 11, columns.program.map(bytes))
            RawBind.text(events, 13, columns.user.map(bytes))
            RawBind.text(events, 14, columns.sourceIP.map(bytes))
            try RawBind.step(events, db)
        }
        if moveHead {
            try db.cachedStatement(
                sql: """
                    INSERT INTO chains (agent_id, epoch, first_seen_ns, updated_ns, head_seq, head_hash, batches, events)
                    VALUES (?1, ?2, ?3, ?3, ?4, ?5, 1, ?6)
                    ON CONFLICT (agent_id, epoch) DO UPDATE SET
                        updated_ns = excluded.updated_ns, head_seq = excluded.head_seq, head_hash = excluded.head_hash,
                        batches = batches + 1, events = events + excluded.events
                    """
            ).execute(arguments: [
                item.agentID, batch.epoch.sqlValue, item.receivedNanos, batch.sequence.sqlValue, hash.data,
                batch.eventCount,
            ])
        } else {
            try db.execute(
                sql: "UPDATE chains SET batches = batches + 1, events = events + ? WHERE agent_id = ? AND epoch = ?",
                arguments: [batch.eventCount, item.agentID, batch.epoch.sqlValue]
            )
        }
        return batchID
    }

    static func insert(_ db: Database, _ finding: ChainFinding) throws {
        try db.execute(
            sql: """
                INSERT INTO findings (kind, agent_id, epoch, from_seq, to_seq, batch_hash, other_hash, detail, at_ns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                finding.kind.rawValue, finding.agentID, finding.epoch?.sqlValue, finding.fromSequence?.sqlValue,
                finding.toSequence?.sqlValue, finding.batchHash?.data, finding.otherHash?.data, finding.detail,
                finding.atNanos,
            ]
        )
    }
}

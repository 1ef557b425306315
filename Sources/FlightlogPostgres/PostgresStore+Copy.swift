import FlightlogEvidence
public import FlightlogStore
public import FlightlogWire
import Foundation
import Logging
import PostgresNIO

/// What `flightlog copy-store` has done so far.
public struct CopyProgress: Sendable, Equatable {
    /// Agents created on the target (those already there are not counted).
    public var agents = 0
    /// Batches stored on the target by this run, and batches it found already stored (a resumed copy).
    public var batchesStored = 0
    public var batchesAlreadyThere = 0
    /// The source's last batch id copied, and its largest when the run started.
    public var throughID: Int64 = 0
    public var lastID: Int64 = 0
    public var findings = 0
    public var checkpoints = 0
}

extension PostgresStore {
    /// Copies a store into this one (`flightlog copy-store`): its agents with every key they held, then its batches
    /// in the order they were stored, each through this store's own ingest with its original receipt time (so the
    /// chain checks and the transparency log are rebuilt, leaf for leaf: the tree's root is the source's), then the
    /// findings ingest cannot derive again and the source's signed checkpoints, which `verify` then checks against
    /// the rebuilt tree. Resumable: the source's last batch id copied is kept in `copy_progress` after each page, and
    /// a page copied again is answered `duplicate` and writes nothing. `source` names the source in that table.
    public func copy(
        from store: any StoreCopySource,
        source: String,
        checkpoints: [StoredCheckpoint],
        rotations: [(agent: String, record: RotationRecord, receivedNanos: Int64)] = [],
        batchesPerTransaction: Int = 200,
        progress: @Sendable (CopyProgress) -> Void
    ) async throws(StoreError) -> CopyProgress {
        var result = CopyProgress()
        try await self.transaction { connection in
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS copy_progress (
                    source TEXT PRIMARY KEY, through_id BIGINT NOT NULL, finished BOOLEAN NOT NULL DEFAULT FALSE)
                """,
                logger: self.logger
            )
        }
        let resume = try await self.connection { connection in
            try await connection.all(
                "SELECT through_id FROM copy_progress WHERE source = \(source)",
                Int64.self,
                logger: self.logger
            ).first
        }
        // Agents first, by name; an agent already on the target must hold the same key.
        var agentIDs: [String: Int64] = [:]
        for agent in try await store.copiedAgents() {
            let (id, created) = try await self.copyAgent(agent)
            agentIDs[agent.record.name] = id
            if created { result.agents += 1 }
        }
        // The rotation records before the batches: ingest takes a chain a rotation started for the old chain's
        // continuation, not a new epoch.
        try await self.transaction { connection in
            for rotation in rotations {
                guard let agentID = agentIDs[rotation.agent] else { continue }
                try await connection.query(
                    """
                    INSERT INTO rotations (agent_id, new_epoch, record, received_ns)
                    VALUES (\(agentID), \(Int64(bitPattern: rotation.record.newEpoch)), \(Data(rotation.record.bytes)),
                            \(rotation.receivedNanos))
                    ON CONFLICT (record) DO NOTHING
                    """,
                    logger: self.logger
                )
            }
        }
        result.throughID = resume ?? 0
        while true {
            let batches = try await store.copiedBatches(afterID: result.throughID, limit: max(1, batchesPerTransaction))
            guard let last = batches.last else { break }
            var items: [IngestItem] = []
            for batch in batches {
                guard let agentID = agentIDs[batch.agent] else {
                    throw StoreError.database(
                        "batch \(batch.id) belongs to agent '\(batch.agent)', not among the agents"
                    )
                }
                let signed: SignedBatch
                let layout: EventLayout
                do {
                    signed = try SignedBatch(bytes: batch.envelope)
                    layout = try signed.decodeLayout()
                } catch {
                    throw StoreError.database(
                        "batch \(batch.id) of the source does not decode (\(error)): run `flightlog verify` on it"
                    )
                }
                items.append(
                    IngestItem(agentID: agentID, batch: signed, layout: layout, receivedNanos: batch.receivedNanos)
                )
            }
            let outcomes: [IngestOutcome]
            do {
                outcomes = try await self.ingest(items)
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError.database(Self.describe(error))
            }
            for (batch, outcome) in zip(batches, outcomes) {
                switch outcome {
                case .stored: result.batchesStored += 1
                case .duplicate: result.batchesAlreadyThere += 1
                case .refused(let code, let message):
                    throw StoreError.database(
                        "batch \(batch.id) of '\(batch.agent)' was refused (\(code): \(message)): the source holds a "
                            + "batch its own chain rules refuse; run `flightlog verify` on it"
                    )
                case .heldBack:
                    throw StoreError.database("batch \(batch.id) of '\(batch.agent)' was held back after a refusal")
                }
            }
            result.throughID = last.id
            try await self.transaction { connection in
                try await connection.query(
                    """
                    INSERT INTO copy_progress (source, through_id) VALUES (\(source), \(last.id))
                    ON CONFLICT (source) DO UPDATE SET through_id = excluded.through_id
                    """,
                    logger: self.logger
                )
            }
            progress(result)
        }
        // Once: what ingest could not find again, and the signed checkpoints.
        let finished = try await self.connection { connection in
            try await connection.all(
                "SELECT finished FROM copy_progress WHERE source = \(source)",
                Bool.self,
                logger: self.logger
            ).first ?? false
        }
        if !finished {
            let findings = try await store.copiedFindings()
            try await self.transaction { connection in
                for (agent, finding) in findings {
                    var copied = finding
                    copied.agentID = agent.flatMap { agentIDs[$0] }
                    try await Self.insert(connection, copied, logger: self.logger)
                }
                for checkpoint in checkpoints {
                    let signed = checkpoint.signed.checkpoint
                    try await connection.query(
                        """
                        INSERT INTO checkpoints (tree_size, root_hash, signed_ns, origin, note)
                        SELECT \(Int64(signed.size)), \(signed.rootHash.data), \(checkpoint.signedNanos),
                               \(signed.origin), \(checkpoint.signed.note)
                        WHERE NOT EXISTS (SELECT 1 FROM checkpoints WHERE note = \(checkpoint.signed.note))
                        """,
                        logger: self.logger
                    )
                }
                try await connection.query(
                    """
                    INSERT INTO copy_progress (source, through_id, finished) VALUES (\(source), \(result.throughID), TRUE)
                    ON CONFLICT (source) DO UPDATE SET finished = TRUE
                    """,
                    logger: self.logger
                )
            }
            result.findings = findings.count
            result.checkpoints = checkpoints.count
        }
        progress(result)
        return result
    }

    /// Creates `agent` with its keys unless an agent of that name exists; returns its id here and whether it was
    /// created. An agent of that name with another first key is a different agent: refused.
    private func copyAgent(_ agent: CopiedAgent) async throws(StoreError) -> (id: Int64, created: Bool) {
        let record = agent.record
        return try await self.transaction { connection in
            let existing = try await connection.query(
                "SELECT id, public_key FROM agents WHERE name = \(record.name)",
                logger: self.logger
            )
            for try await (id, key) in existing.decode((Int64, Data).self) {
                let held =
                    try await connection.all(
                        "SELECT count(*) FROM agent_keys WHERE agent_id = \(id) AND public_key = \(record.publicKey.data)",
                        Int.self,
                        logger: self.logger
                    ).first ?? 0
                guard key == record.publicKey.data || held > 0 else {
                    throw StoreError.alreadyEnrolled(name: record.name)
                }
                return (id, false)
            }
            let ids = try await connection.all(
                """
                INSERT INTO agents (name, public_key, key_id, enrolled_ns, revoked_ns, last_seen_ns, last_skew_ns,
                                    last_address)
                VALUES (\(record.name), \(record.publicKey.data), \(record.keyID.data), \(record.enrolledNanos),
                        \(record.revokedNanos), \(record.lastSeenNanos), \(record.lastSkewNanos), \(record.lastAddress))
                RETURNING id
                """,
                Int64.self,
                logger: self.logger
            )
            guard let id = ids.first else { throw StoreError.database("INSERT INTO agents returned no id") }
            for key in agent.keys {
                try await connection.query(
                    """
                    INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                    VALUES (\(id), \(key.publicKey.data), \(key.keyID.data), \(key.fromNanos), \(key.untilNanos),
                            \(key.how))
                    """,
                    logger: self.logger
                )
            }
            return (id, true)
        }
    }
}

import FlightlogEvidence
public import FlightlogStore
public import FlightlogWire
import Foundation
import Logging
import PostgresNIO
import Synchronization

extension PostgresStore: EvidenceStore {
    public func agent(publicKey: Bytes32) async throws -> AgentRecord? {
        try await self.connection { connection in
            try await Self.agents(
                connection,
                where: "WHERE public_key = \(publicKey.data)",
                logger: self.logger
            ).first
        }
    }

    public func chainHead(agentID: Int64, epoch: UInt64) async throws -> ChainLink.Head? {
        try await self.connection { connection in
            try await Self.head(connection, agentID: agentID, epoch: epoch, logger: self.logger)
        }
    }

    public func ingest(_ items: [IngestItem]) async throws -> [IngestOutcome] {
        try await self.ensureMonths(items)
        return try await self.transaction { connection in
            // Locks in one order in every transaction, so that two cannot wait for each other: the agents' rows by
            // id (they order each agent's chain checks across nodes), then the catalogue's names sorted, then the
            // log's one row, last and for the shortest time: only the leaves are appended under it, so ingest
            // transactions of different agents run side by side until then.
            let agentIDs = Array(Set(items.map(\.agentID))).sorted()
            try await connection.query(
                "SELECT id FROM agents WHERE id = ANY(\(agentIDs)) ORDER BY id FOR UPDATE",
                logger: self.logger
            )
            var leaves: [(batchID: Int64, leaf: TransparencyLeaf)] = []
            var outcomes: [IngestOutcome] = []
            outcomes.reserveCapacity(items.count)
            var refused: [ChainKey: UInt64] = [:]
            var catalogue: Set<[String]> = []
            for item in items {
                let chain = ChainKey(agentID: item.agentID, epoch: item.batch.epoch)
                if let first = refused[chain], first < item.batch.sequence {
                    outcomes.append(.heldBack(after: first))
                    continue
                }
                let outcome = try await self.ingest(connection, item, leaves: &leaves)
                if case .refused = outcome, refused[chain] == nil { refused[chain] = item.batch.sequence }
                if outcome == .stored { for name in item.catalogueNames { catalogue.insert([name.kind, name.name]) } }
                outcomes.append(outcome)
            }
            if !catalogue.isEmpty {
                let names = catalogue.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
                try await connection.query(
                    """
                    INSERT INTO catalogue (kind, name)
                    SELECT * FROM unnest(\(names.map { $0[0] })::text[], \(names.map { $0[1] })::text[])
                    ON CONFLICT DO NOTHING
                    """,
                    logger: self.logger
                )
            }
            if !leaves.isEmpty {
                let sizes = try await connection.all(
                    "SELECT size FROM merkle_state FOR UPDATE",
                    Int64.self,
                    logger: self.logger
                )
                guard let size = sizes.first else { throw StoreError.database("merkle_state has no row") }
                var tree = TreeAppender(size: UInt64(size))
                for (batchID, leaf) in leaves {
                    try await tree.append(connection, batchID: batchID, leaf: leaf, logger: self.logger)
                }
                try await tree.flush(connection, logger: self.logger)
                try await connection.query("UPDATE merkle_state SET size = \(Int64(tree.size))", logger: self.logger)
            }
            return outcomes
        }
    }

    public func recordHandshake(_ record: HandshakeRecord) async throws {
        try await self.transaction { connection in
            try await connection.query(
                """
                INSERT INTO handshakes (at_ns, peer, node, public_key, agent_id, agent_name, epoch, skew_ns, outcome)
                VALUES (\(record.atNanos), \(record.peer), \(self.node), \(record.publicKey?.data), \(record.agentID),
                        \(record.agentName), \(record.epoch.map(Int64.init(bitPattern:))), \(record.skewNanos),
                        \(record.outcome))
                """,
                logger: self.logger
            )
            if let agentID = record.agentID, record.outcome == "accepted" {
                try await connection.query(
                    """
                    UPDATE agents SET last_seen_ns = \(record.atNanos), last_skew_ns = \(record.skewNanos),
                                      last_address = \(record.peer)
                    WHERE id = \(agentID)
                    """,
                    logger: self.logger
                )
            }
        }
    }

    public func recordFinding(_ finding: ChainFinding) async throws {
        try await self.transaction { connection in try await Self.insert(connection, finding, logger: self.logger) }
    }

    public func touchAgent(id: Int64, atNanos: Int64) async throws {
        try await self.transaction { connection in
            try await connection.query(
                "UPDATE agents SET last_seen_ns = GREATEST(COALESCE(last_seen_ns, 0), \(atNanos)) WHERE id = \(id)",
                logger: self.logger
            )
        }
    }

    public func redeem(
        token: String,
        publicKey: Bytes32,
        peer: String,
        atNanos: Int64
    ) async throws -> Result<AgentRecord, EnrolmentRefusal> {
        try await self.redeemToken(token, publicKey: publicKey, peer: peer, atNanos: atNanos)
    }

    /// Stores a rotation (PROTOCOL.md §4.12) for the agent enrolled with its old key, the SQLite store's checks in
    /// the transaction that makes the new key the agent's (the agents' table locked as `enroll` locks it, the
    /// agent's row as ingest does); a record already stored is accepted again (a retry after a lost answer).
    public func rotate(_ record: RotationRecord, atNanos: Int64) async throws -> Result<AgentRecord, RotationRefusal> {
        if let problem = record.signatureProblem { return .failure(RotationRefusal(reason: problem)) }
        let bytes = Data(record.bytes)
        return try await self.transaction { connection -> Result<AgentRecord, RotationRefusal> in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.enrolmentLock))", logger: self.logger)
            let done = try await connection.all(
                "SELECT agent_id FROM rotations WHERE record = \(bytes)",
                Int64.self,
                logger: self.logger
            )
            if let agentID = done.first,
                let agent = try await Self.agents(connection, where: "WHERE id = \(agentID)", logger: self.logger)
                    .first,
                agent.publicKey == record.newPublicKey
            {
                return .success(agent)
            }
            guard
                let agent = try await Self.agents(
                    connection,
                    where: "WHERE public_key = \(record.oldPublicKey.data)",
                    logger: self.logger
                ).first
            else { return .failure(RotationRefusal(reason: "the old key is not an enrolled agent's current key")) }
            guard agent.revokedNanos == nil else {
                return .failure(RotationRefusal(reason: "\(agent.name) is revoked"))
            }
            let stored =
                try await Self.head(connection, agentID: agent.id, epoch: record.oldEpoch, logger: self.logger)
                ?? ChainLink.Head(sequence: 0, hash: .zero)
            guard stored.sequence == record.oldHeadSequence, stored.hash == record.oldHeadHash else {
                return .failure(
                    RotationRefusal(
                        reason:
                            "the record names batch \(record.oldHeadSequence) as the head of epoch \(record.oldEpoch); "
                            + "the aggregator holds \(stored.sequence): ship every batch before rotating"
                    )
                )
            }
            let taken =
                try await connection.all(
                    "SELECT count(*) FROM agent_keys WHERE public_key = \(record.newPublicKey.data)",
                    Int.self,
                    logger: self.logger
                ).first ?? 0
            guard taken == 0 else { return .failure(RotationRefusal(reason: "the new key is enrolled already")) }
            let newEpoch = Int64(bitPattern: record.newEpoch)
            let used =
                try await connection.all(
                    "SELECT count(*) FROM chains WHERE agent_id = \(agent.id) AND epoch = \(newEpoch)",
                    Int.self,
                    logger: self.logger
                ).first ?? 0
            guard used == 0 else {
                return .failure(RotationRefusal(reason: "the new epoch \(record.newEpoch) holds batches already"))
            }
            let newKeyID = KeyID.of(publicKeyBytes: record.newPublicKey)
            try await connection.query(
                "UPDATE agent_keys SET until_ns = \(atNanos) WHERE agent_id = \(agent.id) AND until_ns IS NULL",
                logger: self.logger
            )
            try await connection.query(
                """
                INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                VALUES (\(agent.id), \(record.newPublicKey.data), \(newKeyID.data), \(atNanos), NULL, 'rotated')
                """,
                logger: self.logger
            )
            try await connection.query(
                """
                UPDATE agents SET public_key = \(record.newPublicKey.data), key_id = \(newKeyID.data)
                WHERE id = \(agent.id)
                """,
                logger: self.logger
            )
            try await connection.query(
                """
                INSERT INTO rotations (agent_id, new_epoch, record, received_ns)
                VALUES (\(agent.id), \(newEpoch), \(bytes), \(atNanos))
                """,
                logger: self.logger
            )
            try await self.appendAudit(
                AuditEntry(
                    atNanos: atNanos,
                    who: "serve",
                    command: "rotate-key",
                    arguments: [
                        "--name", agent.name, "--old-key", record.oldPublicKey.hex, "--new-key",
                        record.newPublicKey.hex, "--old-epoch", String(record.oldEpoch), "--old-head",
                        String(record.oldHeadSequence), "--new-epoch", String(record.newEpoch),
                    ],
                    resultCount: 1,
                    outcome: "rotated"
                ),
                connection
            )
            var rotated = agent
            rotated.publicKey = record.newPublicKey
            rotated.keyID = newKeyID
            return .success(rotated)
        }
    }

    /// The stored rotation records, oldest first, with their agent's name.
    public func rotations() async throws(StoreError) -> [(agent: String, record: RotationRecord, receivedNanos: Int64)]
    {
        try await self.connection { connection in
            let rows = try await connection.query(
                "SELECT a.name, r.record, r.received_ns FROM rotations r JOIN agents a ON a.id = r.agent_id ORDER BY r.id",
                logger: self.logger
            )
            var out: [(agent: String, record: RotationRecord, receivedNanos: Int64)] = []
            for try await (name, bytes, received) in rows.decode((String, Data, Int64).self) {
                guard let record = try? RotationRecord(bytes: bytes) else { continue }
                out.append((name, record, received))
            }
            return out
        }
    }

    public func keyHolder(publicKey: Bytes32) async throws -> (name: String, untilNanos: Int64?)? {
        try await self.connection { connection in
            let rows = try await connection.query(
                """
                SELECT a.name, k.until_ns FROM agent_keys k JOIN agents a ON a.id = k.agent_id
                WHERE k.public_key = \(publicKey.data)
                """,
                logger: self.logger
            )
            for try await (name, until) in rows.decode((String, Int64?).self) { return (name, until) }
            return nil
        }
    }

    // MARK: - Inside the ingest transaction

    /// One agent's chain: (agent, epoch).
    private struct ChainKey: Hashable {
        var agentID: Int64
        var epoch: UInt64
    }

    static func head(
        _ connection: PostgresConnection,
        agentID: Int64,
        epoch: UInt64,
        logger: Logger
    ) async throws -> ChainLink.Head? {
        let rows = try await connection.query(
            "SELECT head_seq, head_hash FROM chains WHERE agent_id = \(agentID) AND epoch = \(Int64(bitPattern: epoch))",
            logger: logger
        )
        for try await (sequence, hash) in rows.decode((Int64, Data).self) {
            guard let hash = Bytes32(data: hash) else { throw StoreError.database("a chain head hash is not 32 bytes") }
            return ChainLink.Head(sequence: UInt64(bitPattern: sequence), hash: hash)
        }
        return nil
    }

    /// Stores `item` when its chain allows: the SQLite store's rules (SQLiteStore+Ingest.swift), statement for
    /// statement.
    private func ingest(
        _ connection: PostgresConnection,
        _ item: IngestItem,
        leaves: inout [(batchID: Int64, leaf: TransparencyLeaf)]
    ) async throws -> IngestOutcome {
        let batch = item.batch
        let epoch = Int64(bitPattern: batch.epoch)
        let sequence = Int64(bitPattern: batch.sequence)
        // The agent's revocation and the chain's head in one round trip; the transaction holds the agent's row
        // (locked at its start), so no revocation commits and no other node checks this chain meanwhile.
        let rows = try await connection.query(
            """
            SELECT a.revoked_ns, c.head_seq, c.head_hash FROM agents a
            LEFT JOIN chains c ON c.agent_id = a.id AND c.epoch = \(epoch)
            WHERE a.id = \(item.agentID)
            """,
            logger: self.logger
        )
        var revoked: Int64?
        var head: ChainLink.Head?
        for try await (revokedNanos, headSequence, headHash) in rows.decode((Int64?, Int64?, Data?).self) {
            revoked = revokedNanos
            if let headSequence, let headHash {
                guard let hash = Bytes32(data: headHash) else {
                    throw StoreError.database("a chain head hash is not 32 bytes")
                }
                head = ChainLink.Head(sequence: UInt64(bitPattern: headSequence), hash: hash)
            }
        }
        if let revoked, item.receivedNanos >= revoked {
            return try await self.record(connection, .revoked(item, revokedNanos: revoked))
        }
        let link = ChainLink.classify(sequence: batch.sequence, previousHash: batch.previousHash, head: head)
        let hash = batch.hash
        switch link {
        case .alreadySeen:
            let stored = try await connection.all(
                "SELECT hash FROM batches WHERE agent_id = \(item.agentID) AND epoch = \(epoch) AND seq = \(sequence)",
                Data.self,
                logger: self.logger
            ).first
            if let stored {
                if stored == hash.data { return .duplicate }
                return try await self.record(connection, .equivocation(item, stored: Array(stored)))
            }
            _ = try await self.record(connection, .late(item))
            try await self.store(connection, item, hash: hash, moveHead: false, leaves: &leaves)
            return .stored
        case .broken:
            return try await self.record(connection, .broken(item))
        case .genesis, .gap, .extends:
            if head == nil {
                let others =
                    try await connection.all(
                        "SELECT count(*) FROM chains WHERE agent_id = \(item.agentID) AND epoch != \(epoch)",
                        Int.self,
                        logger: self.logger
                    ).first ?? 0
                // A chain a signed rotation started is the old chain's continuation, not a wiped agent.
                let rotation =
                    try await connection.all(
                        "SELECT count(*) FROM rotations WHERE agent_id = \(item.agentID) AND new_epoch = \(epoch)",
                        Int.self,
                        logger: self.logger
                    ).first ?? 0
                if others > 0 && rotation == 0 { _ = try await self.record(connection, .newEpoch(item)) }
            }
            if case .gap(let missing) = link {
                _ = try await self.record(connection, .gap(item, missing: missing))
            }
            try await self.store(connection, item, hash: hash, moveHead: true, leaves: &leaves)
            return .stored
        }
    }

    /// Records `ruling`'s finding; returns its outcome (`.stored` for a ruling that does not refuse the batch).
    private func record(_ connection: PostgresConnection, _ ruling: ChainRuling) async throws -> IngestOutcome {
        try await Self.insert(connection, ruling.finding, logger: self.logger)
        return ruling.outcome ?? .stored
    }

    /// Inserts the batch, its events and its leaf.
    private func store(
        _ connection: PostgresConnection,
        _ item: IngestItem,
        hash: Bytes32,
        moveHead: Bool,
        leaves: inout [(batchID: Int64, leaf: TransparencyLeaf)]
    ) async throws {
        let batch = item.batch
        let epoch = Int64(bitPattern: batch.epoch)
        let bloom = try self.tokenizers.with { tokenizer in
            var hashes: Set<UInt64> = []
            for entry in item.layout.entries {
                item.layout.withBytes(entry.line) { tokenizer.addTokenHashes(of: $0, to: &hashes) }
            }
            return Data(TokenBloom.make(hashes))
        }
        let ids = try await connection.all(
            """
            INSERT INTO batches (agent_id, epoch, seq, hash, prev_hash, created_ns, first_ns, last_ns, event_count,
                                 received_ns, node, envelope, token_bloom)
            VALUES (\(item.agentID), \(epoch), \(Int64(bitPattern: batch.sequence)), \(hash.data),
                    \(batch.previousHash.data), \(batch.createdNanos), \(batch.firstEventNanos),
                    \(batch.lastEventNanos), \(Int32(clamping: batch.eventCount)), \(item.receivedNanos), \(self.node),
                    \(Data(batch.bytes)), \(bloom))
            RETURNING id
            """,
            Int64.self,
            logger: self.logger
        )
        guard let batchID = ids.first else { throw StoreError.database("INSERT INTO batches returned no id") }
        try await self.insertEvents(connection, item, batchID: batchID)
        leaves.append((batchID, TransparencyLeaf(item, hash: hash)))
        if moveHead {
            try await connection.query(
                """
                INSERT INTO chains (agent_id, epoch, first_seen_ns, updated_ns, head_seq, head_hash, batches, events)
                VALUES (\(item.agentID), \(epoch), \(item.receivedNanos), \(item.receivedNanos),
                        \(Int64(bitPattern: batch.sequence)), \(hash.data), 1, \(Int64(batch.eventCount)))
                ON CONFLICT (agent_id, epoch) DO UPDATE SET
                    updated_ns = excluded.updated_ns, head_seq = excluded.head_seq, head_hash = excluded.head_hash,
                    batches = chains.batches + 1, events = chains.events + excluded.events
                """,
                logger: self.logger
            )
        } else {
            try await connection.query(
                """
                UPDATE chains SET batches = batches + 1, events = events + \(Int64(batch.eventCount))
                WHERE agent_id = \(item.agentID) AND epoch = \(epoch)
                """,
                logger: self.logger
            )
        }
    }

    /// The batch's events in one statement: each column an array parameter, `unnest` making the rows. One text for
    /// every batch, so PostgreSQL parses and plans it once per connection; 500-row `VALUES` lists of 16 parameters
    /// each spent ~12 % of its CPU per event in the parser and planner (perf, Benchmarks/postgres-nodes.sh). A
    /// nullable column travels as its values (empty where NULL) and a Bool array saying which are present: arrays
    /// of optionals are not among postgres-nio's encodings.
    ///
    /// A text column of PostgreSQL cannot hold a NUL byte: a NUL in a host, source or parsed value (which a peer
    /// controls) is written as U+FFFD in these indexed copies. The signed batch keeps the exact bytes, and `line` is
    /// BYTEA, exact too.
    private func insertEvents(_ connection: PostgresConnection, _ item: IngestItem, batchID: Int64) async throws {
        let layout = item.layout
        let count = layout.entries.count
        guard count > 0 else { return }
        var times: [Int64] = []
        var observed: [Int64] = []
        var flags: [Int32] = []
        var hosts: [String] = []
        var sources: [String] = []
        var programs: [String] = []
        var pids: [Int64] = []
        var users: [String] = []
        var addresses: [String] = []
        var severities: [String] = []
        var present: [[Bool]] = Array(repeating: [], count: 5)
        var lines: [ByteBuffer] = []
        var fields: [String] = []
        for array in 0..<5 { present[array].reserveCapacity(count) }
        for (index, entry) in layout.entries.enumerated() {
            let values = item.indexedValues(index)
            times.append(entry.timeNanos)
            observed.append(entry.observedNanos)
            flags.append(Int32(bitPattern: UInt32(truncatingIfNeeded: entry.flags.rawValue)))
            hosts.append(Self.text(layout, entry.host))
            sources.append(Self.text(layout, entry.source))
            programs.append(values.program.map(Self.withoutNUL) ?? "")
            pids.append(values.pid ?? 0)
            users.append(values.user.map(Self.withoutNUL) ?? "")
            addresses.append(values.sourceIP.map(Self.withoutNUL) ?? "")
            severities.append(values.severity.map(Self.withoutNUL) ?? "")
            present[0].append(values.program != nil)
            present[1].append(values.pid != nil)
            present[2].append(values.user != nil)
            present[3].append(values.sourceIP != nil)
            present[4].append(values.severity != nil)
            lines.append(layout.withBytes(entry.line) { ByteBuffer(bytes: $0) })
            fields.append(Self.withoutNUL(Self.fieldsJSON(layout, entry)))
        }
        try await connection.query(
            """
            INSERT INTO events (batch_id, idx, agent_id, time_ns, observed_ns, received_ns, flags, host, source,
                                program, pid, "user", src_ip, severity, line, fields)
            SELECT \(batchID), r.n - 1, \(item.agentID), r.t, r.o, \(item.receivedNanos), r.f, r.h, r.s,
                   CASE WHEN r.hp THEN r.p END, CASE WHEN r.hpid THEN r.pid END, CASE WHEN r.hu THEN r.u END,
                   CASE WHEN r.hi THEN r.i END, CASE WHEN r.hsev THEN r.sev END, r.l, r.fj
            FROM unnest(\(times)::bigint[], \(observed)::bigint[], \(flags)::integer[], \(hosts)::text[],
                        \(sources)::text[], \(programs)::text[], \(present[0])::boolean[], \(pids)::bigint[],
                        \(present[1])::boolean[], \(users)::text[], \(present[2])::boolean[], \(addresses)::text[],
                        \(present[3])::boolean[], \(severities)::text[], \(present[4])::boolean[], \(lines)::bytea[],
                        \(fields)::text[])
                 WITH ORDINALITY AS r(t, o, f, h, s, p, hp, pid, hpid, u, hu, i, hi, sev, hsev, l, fj, n)
            """,
            logger: self.logger
        )
    }

    static func text(_ layout: EventLayout, _ span: EventLayout.Span) -> String {
        Self.withoutNUL(layout.withBytes(span) { String(decoding: $0, as: UTF8.self) })
    }

    static func withoutNUL(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    /// The event's fields as the JSON object `query` prints (``FieldsJSON``).
    static func fieldsJSON(_ layout: EventLayout, _ entry: EventLayout.Entry) -> String {
        FieldsJSON.encode(
            entry.fieldRange.map { index in
                let field = layout.fields[index]
                return Event.Field(
                    layout.withBytes(field.key) { String(decoding: $0, as: UTF8.self) },
                    layout.withBytes(field.value) { String(decoding: $0, as: UTF8.self) }
                )
            }
        )
    }

    static func insert(_ connection: PostgresConnection, _ finding: ChainFinding, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO findings (kind, agent_id, epoch, from_seq, to_seq, batch_hash, other_hash, detail, at_ns)
            VALUES (\(finding.kind.rawValue), \(finding.agentID), \(finding.epoch.map(Int64.init(bitPattern:))),
                    \(finding.fromSequence.map(Int64.init(bitPattern:))),
                    \(finding.toSequence.map(Int64.init(bitPattern:))), \(finding.batchHash?.data),
                    \(finding.otherHash?.data), \(finding.detail), \(finding.atNanos))
            """,
            logger: logger
        )
    }

    /// Creates the month partitions the items' events fall in that this process has not seen yet, each in its own
    /// short transaction before the ingest transaction (a partition takes a lock on `events` that would otherwise
    /// be held until the batch commits).
    private func ensureMonths(_ items: [IngestItem]) async throws(StoreError) {
        var months: Set<MonthPartition> = []
        for item in items {
            for entry in item.layout.entries {
                if let month = MonthPartition(nanos: entry.timeNanos) { months.insert(month) }
            }
        }
        let missing = self.knownMonths.withLock { known in months.subtracting(known) }
        guard !missing.isEmpty else { return }
        for month in missing.sorted(by: { ($0.year, $0.month) < ($1.year, $1.month) }) {
            try await self.transaction { connection in
                try await connection.query(
                    "SELECT flightlog_month_partition(\(month.name), \(month.lowerNanos), \(month.upperNanos))",
                    logger: self.logger
                )
            }
        }
        self.knownMonths.withLock { $0.formUnion(missing) }
    }
}

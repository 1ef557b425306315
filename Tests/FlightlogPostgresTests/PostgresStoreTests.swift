import Crypto
import FlightlogEvidence
import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

@Suite("PostgreSQL store")
struct PostgresStoreTests {
    /// The SQLite store's outcomes, findings and transparency log are the reference: the same batches, received at the
    /// same times, must give the same answers and the same tree root on PostgreSQL.
    @Test func batchesGetTheSQLiteStoresOutcomesFindingsAndTreeRoot() async throws {
        let database = try await PostgresTestDatabase.make()
        let directory = try TempDirectory()
        defer { directory.cleanup() }
        let postgres = try await PostgresStore.open(database.location, node: "node-a")
        let sqlite = try Storage.open(path: directory.file("reference.db"))
        let agent = TestAgent(name: "ws-pg-1")
        let chain = try agent.chain(5, eventsPerBatch: 3)
        let forged = try agent.batch(
            sequence: 3,
            previous: chain[1].hash,
            events: agent.events(2, prefix: "a different batch 3")
        )
        let broken = try agent.batch(sequence: 6, previous: Bytes32.zero, events: agent.events(1, prefix: "broken"))
        // In order: 1, 2, 4 (a gap), 3 (late), 2 again (duplicate), a second batch 3 (equivocation), 5, a 6 that
        // does not link.
        let sequence = [chain[0], chain[1], chain[3], chain[2], chain[1], forged, chain[4], broken]
        let agentIDs = [
            try await postgres.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1).id,
            try await sqlite.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1).id,
        ]
        var answers: [[IngestOutcome]] = []
        for (store, agentID) in zip([postgres as any EvidenceStore, sqlite], agentIDs) {
            var outcomes: [IngestOutcome] = []
            for (index, batch) in sequence.enumerated() {
                let item = IngestItem(
                    agentID: agentID,
                    batch: batch,
                    layout: try batch.decodeLayout(),
                    receivedNanos: 1_800_000_000_000_000_000 + Int64(index)
                )
                outcomes += try await store.ingest([item])
            }
            answers.append(outcomes)
        }
        #expect(answers[0] == answers[1])
        #expect(
            answers[0] == [
                .stored, .stored, .stored, .stored, .duplicate, .refused(.equivocation, answers[1][5].message),
                .stored, .refused(.chainBroken, answers[1][7].message),
            ]
        )
        let kinds = try await postgres.findings().map(\.kind)
        #expect(kinds == (try await sqlite.findings().map(\.kind)))
        #expect(kinds == [.gap, .lateBatch, .equivocation, .chainBroken])
        #expect(try await postgres.treeSize() == 5)
        #expect(try await postgres.treeRoot(size: 5) == (try await sqlite.treeRoot(size: 5)))
        #expect(try await postgres.treeRoot(size: 3) == (try await sqlite.treeRoot(size: 3)))
        #expect(
            try await postgres.consistencyProof(oldSize: 2, newSize: 5)
                == (try await sqlite.consistencyProof(oldSize: 2, newSize: 5))
        )
        let counts = try await postgres.counts()
        #expect(counts.batches == 5)
        #expect(counts.events == 15)
        let summary = try #require(try await postgres.agentSummaries().first)
        #expect(summary.batches == 5)
        #expect(summary.events == 15)
        #expect(summary.lastSequence == 5)
        #expect(summary.gaps == 1)
        #expect(summary.equivocations == 1)
        postgres.close()
        await database.drop()
    }

    /// Each stored batch has an inclusion proof that verifies against a signed checkpoint of the tree; a second
    /// checkpoint of an unchanged tree is not signed again.
    @Test func checkpointsAndInclusionProofsVerify() async throws {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        let agent = TestAgent(name: "ws-pg-2")
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        try await agent.ingest(try agent.chain(7, eventsPerBatch: 2), into: store)
        let signer = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        let signed = try #require(try await store.makeCheckpoint(signer: signer, atNanos: 10, onlyWhenGrown: true))
        #expect(signed.checkpoint.size == 7)
        #expect(try await store.makeCheckpoint(signer: signer, atNanos: 11, onlyWhenGrown: true) == nil)
        #expect(try await store.checkpoints().count == 1)
        for batchID in 1...7 {
            let proof = try #require(try await store.inclusionProof(batchID: Int64(batchID), treeSize: 7))
            #expect(
                MerkleTree.verifyInclusion(
                    leafHash: proof.leaf.hash,
                    index: proof.leafIndex,
                    size: 7,
                    proof: proof.path,
                    root: signed.checkpoint.rootHash
                )
            )
        }
        store.close()
        await database.drop()
    }

    /// Two stores on one database stand for two aggregator nodes: an agent's batches sent to both at once (the
    /// failover case) are stored once each, and every node's batches go into one log.
    @Test func twoNodesOnOneDatabaseStoreEachBatchOnceInOneLog() async throws {
        let database = try await PostgresTestDatabase.make()
        let nodeA = try await PostgresStore.open(database.location, node: "node-a")
        let nodeB = try await PostgresStore.open(database.location, node: "node-b")
        let agents = (1...4).map { TestAgent(name: "ws-pg-multi-\($0)") }
        var records: [Int64] = []
        for agent in agents {
            records.append(
                try await nodeA.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1).id
            )
        }
        let chains = try agents.map { try $0.chain(12, eventsPerBatch: 4) }
        let outcomes = try await withThrowingTaskGroup(of: [IngestOutcome].self) { group in
            for (index, chain) in chains.enumerated() {
                let agentID = records[index]
                for node in [nodeA, nodeB] {
                    group.addTask {
                        var outcomes: [IngestOutcome] = []
                        for batch in chain {
                            let item = IngestItem(
                                agentID: agentID,
                                batch: batch,
                                layout: try batch.decodeLayout(),
                                receivedNanos: nowNanos()
                            )
                            outcomes += try await node.ingest([item])
                        }
                        return outcomes
                    }
                }
            }
            var all: [IngestOutcome] = []
            for try await outcomes in group { all += outcomes }
            return all
        }
        #expect(outcomes.filter { $0 == .stored }.count == 48)
        #expect(outcomes.filter { $0 == .duplicate }.count == 48)
        let counts = try await nodeB.counts()
        #expect(counts.batches == 48)
        #expect(counts.events == 192)
        #expect(try await nodeA.treeSize() == 48)
        #expect(try await nodeA.findings().isEmpty)
        // One tree: every batch is a leaf exactly once, and the root of the whole equals the root recomputed from
        // the leaves' inclusion proofs.
        let root = try await nodeB.treeRoot(size: 48)
        for batchID in 1...48 {
            let proof = try #require(try await nodeA.inclusionProof(batchID: Int64(batchID), treeSize: 48))
            #expect(
                MerkleTree.verifyInclusion(
                    leafHash: proof.leaf.hash,
                    index: proof.leafIndex,
                    size: 48,
                    proof: proof.path,
                    root: root
                )
            )
        }
        var query = EventQuery()
        query.agent = agents[2].name
        #expect(try await nodeA.countEvents(query) == 48)
        nodeA.close()
        nodeB.close()
        await database.drop()
    }

    /// PostgreSQL's text cannot hold a NUL byte, and a peer chooses the values: a NUL in a parsed value must not
    /// make the batch fail (it would be retried for ever). The line itself is stored exactly.
    @Test func aNulByteInAParsedValueIsStoredAndTheLineKeptExact() async throws {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        let agent = TestAgent(name: "ws-pg-nul")
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let line: [UInt8] = Array("login user=ro".utf8) + [0, 0xff] + Array("ot".utf8)
        let event = Event(
            timeNanos: 1_765_000_000_000_000_000,
            observedNanos: 1_765_000_000_000_000_000,
            host: "ws\u{0}pg",
            source: "/var/log/auth.log",
            line: line,
            fields: [Event.Field("user", "ro\u{0}ot"), Event.Field("program", "sshd")]
        )
        let batch = try agent.batch(sequence: 1, previous: .zero, events: [event])
        try await agent.ingest([batch], into: store)
        let seen = EventBox()
        #expect(try await store.forEachEvent(EventQuery()) { seen.append($0) } == 1)
        let stored = try #require(seen.events.first)
        #expect(stored.line == line)
        #expect(stored.user == "ro\u{FFFD}ot")
        #expect(stored.host == "ws\u{FFFD}pg")
        #expect(stored.program == "sshd")
        store.close()
        await database.drop()
    }

    /// A revocation on one node refuses the agent's next batch on another.
    @Test func aRevocationOnOneNodeRefusesBatchesOnTheOther() async throws {
        let database = try await PostgresTestDatabase.make()
        let nodeA = try await PostgresStore.open(database.location, node: "node-a")
        let nodeB = try await PostgresStore.open(database.location, node: "node-b")
        let agent = TestAgent(name: "ws-pg-revoked")
        let record = try await nodeA.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let chain = try agent.chain(2)
        try await agent.ingest([chain[0]], into: nodeB)
        try await nodeA.revoke(name: agent.name, atNanos: nowNanos())
        let item = IngestItem(
            agentID: record.id,
            batch: chain[1],
            layout: try chain[1].decodeLayout(),
            receivedNanos: nowNanos()
        )
        #expect(try await nodeB.ingest([item]) == [.refused(.revokedAgent, "this key was revoked")])
        #expect(try await nodeB.findings().map(\.kind) == [.rejectedBatch])
        await #expect(throws: StoreError.alreadyRevoked(name: agent.name)) {
            try await nodeB.revoke(name: agent.name, atNanos: nowNanos())
        }
        nodeA.close()
        nodeB.close()
        await database.drop()
    }

    /// The month partitions are made as events need them, and times a clock got wrong land in the edge partitions.
    @Test func eventsGoToTheirMonthsPartitionAndFarTimesToTheEdges() async throws {
        let database = try await PostgresTestDatabase.make()
        let store = try await PostgresStore.open(database.location, node: "node-a")
        let agent = TestAgent(name: "ws-pg-months")
        try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let times: [Int64] = [
            1_764_547_200_000_000_000,  // 2025-12-01T00:00:00Z, the first nanosecond of December
            1_764_547_199_999_999_999,  // the last of November
            0,  // 1970
            4_200_000_000_000_000_000,  // 2103
        ]
        let events = times.map {
            Event(timeNanos: $0, observedNanos: $0, host: "h", source: "s", line: Array("t \($0)".utf8), fields: [])
        }
        try await agent.ingest([try agent.batch(sequence: 1, previous: .zero, events: events)], into: store)
        #expect(
            try await store.partitionCounts() == [
                "events_2025_11": 1, "events_2025_12": 1, "events_before_2000": 1, "events_from_2100": 1,
            ]
        )
        var query = EventQuery()
        query.sinceNanos = 1_764_547_200_000_000_000
        query.untilNanos = 1_767_225_600_000_000_000
        #expect(try await store.countEvents(query) == 1)
        store.close()
        await database.drop()
    }

    /// An ACK promises a durable commit: the store's sessions commit with synchronous_commit = on even where the
    /// database's default turns it off, and say that without a synchronous standby a failover can lose a batch.
    @Test func commitsAreSynchronousWhateverTheDatabaseDefault() async throws {
        let database = try await PostgresTestDatabase.make()
        try await database.execute("ALTER DATABASE \(database.name) SET synchronous_commit = off")
        let store = try await PostgresStore.open(database.location, node: "node-a")
        let durability = try await store.durability()
        #expect(durability.contains("synchronous_commit = on"), "\(durability)")
        #expect(durability.contains("no synchronous standby"), "\(durability)")
        store.close()
        await database.drop()
    }

    /// A reading command does not make a store in an empty (mistyped) database, and an unreachable server or a
    /// missing database is named, not hidden behind the connection pool's "circuit breaker tripped".
    @Test func openingSaysWhyItCannot() async throws {
        let database = try await PostgresTestDatabase.make()
        do {
            _ = try await PostgresStore.open(database.location, create: false)
            Issue.record("an empty database was opened as a store")
        } catch {
            #expect("\(error)".contains("holds no Flightlog store"), "\(error)")
        }
        var missing = database.location
        missing.database = database.name + "_missing"
        do {
            _ = try await PostgresStore.open(missing)
            Issue.record("a missing database was opened")
        } catch {
            #expect("\(error)".contains("does not exist"), "\(error)")
        }
        var closed = database.location
        closed.port = try ThreeNodeTests.freePort()
        do {
            _ = try await PostgresStore.open(closed)
            Issue.record("a closed port was opened")
        } catch {
            #expect("\(error)".contains("refused"), "\(error)")
        }
        await database.drop()
    }

    @Test func anAddressWithAPasswordOrWithoutADatabaseIsRefused() throws {
        #expect(throws: PostgresLocation.Refusal.self) {
            try PostgresLocation("postgres://flightlog:secret@db.example:5432/flightlog", environment: [:])
        }
        #expect(throws: PostgresLocation.Refusal.self) {
            try PostgresLocation("postgres://flightlog@db.example:5432/", environment: [:])
        }
        #expect(throws: PostgresLocation.Refusal.self) {
            try PostgresLocation("postgres://flightlog@db.example/flightlog?sslmode=maybe", environment: [:])
        }
        let location = try PostgresLocation(
            "postgres://flightlog@db.example/flightlog",
            environment: ["FLIGHTLOG_PG_PASSWORD": "from-the-environment"]
        )
        #expect(location.port == 5432)
        #expect(location.tls == .verifyFull)
        #expect(location.password == "from-the-environment")
        #expect(!location.description.contains("from-the-environment"))
    }
}

/// Events collected by a `@Sendable` callback.
final class EventBox: @unchecked Sendable {
    private(set) var events: [EventRecord] = []

    func append(_ event: EventRecord) -> Bool {
        self.events.append(event)
        return true
    }
}

extension IngestOutcome {
    /// The message of a refusal, or "".
    var message: String {
        if case .refused(_, let message) = self { return message }
        return ""
    }
}

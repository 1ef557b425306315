import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import GRDB
import Logging
import NIOCore
import Synchronization
import Testing

@testable import FlightlogAggregator
@testable import FlightlogStore

/// A session's batches are stored in the order they arrived or not at all (PROTOCOL.md §7.4 rule 4). A clean-clone
/// CI run lost 100 lines on a full disk without it: the commit holding batch 7 failed, batch 8, queued behind it,
/// fitted into the next transaction and was stored after a gap, the agent's next WELCOME named 8 as the head, and the
/// agent deleted batch 7 from its spool although the aggregator never had it. These tests fail that one commit on
/// purpose, with the real SQLite store behind the fault.
@Suite struct SessionOrderTests {
    /// The commit of batch 7 fails while batch 8 waits for the next one: 8 is not stored, the head stays at 6, and the
    /// reconnecting agent is told 6, resends both, and nothing is missing.
    @Test func aBatchQueuedBehindAFailedCommitIsNotStored() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        var configuration = AggregatorConfiguration.loopback()
        // One batch per transaction: 7 and 8 are committed apart however fast they arrive.
        configuration.maxBatchesPerCommit = 1
        let agent = TestAgent(name: "ws-full-disk")
        let chain = try agent.chain(8)
        let gate = CommitGate()
        let faulty: (SQLiteStore) -> any EvidenceStore = { FailingCommitStore(store: $0, failing: 7, gate: gate) }
        try await withServer(database: path, serving: faulty, configuration: configuration) { port, store, metrics in
            let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            let (connection, welcome) = try await agent.open(port: port)
            #expect(welcome.lastSequence == 0)
            for batch in chain[..<6] { try await connection.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            try await expectStored(connection, Array(chain[..<6]))
            try await connection.send(.batch(ByteBuffer(bytes: chain[6].bytes)))
            try await eventually { await gate.entered }
            try await connection.send(.batch(ByteBuffer(bytes: chain[7].bytes)))
            try await eventually { metrics["batches_decoded"] == 8 && metrics["commit_queue_batches"] == 1 }
            await gate.open()

            let refusal = try await connection.receiveSkippingHeartbeats()
            guard case .error(let error) = refusal else {
                Issue.record("expected ERROR storageFailure, got \(String(describing: refusal))")
                return
            }
            #expect(error.code == .storageFailure)
            #expect(error.sequence == 7)
            try await connection.waitClosed()
            // The committer is done with batch 8, whatever it did with it.
            try await eventually {
                metrics["commit_queue_batches"] == 0 && metrics["commit_batches_in_transaction"] == 0
            }
            #expect(metrics["batches_held_back"] == 1)
            #expect(try await store.chainHead(agentID: record.id, epoch: agent.epoch)?.sequence == 6)

            let (again, resumed) = try await agent.open(port: port)
            #expect(resumed.lastSequence == 6, "batch 7 was never stored; the agent must keep it")
            for batch in chain[6...] { try await again.send(.batch(ByteBuffer(bytes: batch.bytes))) }
            try await expectStored(again, Array(chain[6...]))
            await again.close()
        }
        let (batches, gaps) = try await DatabaseQueue(path: path).read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM batches") ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM findings WHERE kind = 'gap'") ?? 0
            )
        }
        #expect(batches == 8)
        #expect(gaps == 0)
    }

    /// A session whose batch failed to commit can still hand over a batch before it learns of the failure: that one
    /// is answered at once and never reaches the store; another session's is stored.
    @Test func aHaltedLaneStoresNothingQueuedAfterTheFailure() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        let agent = TestAgent(name: "ws-lane")
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let chain = try agent.chain(2)
        let gate = CommitGate()
        await gate.open()
        var logger = Logger(label: "test.committer")
        logger.logLevel = .critical
        let metrics = AggregatorMetrics()
        let committer = GroupCommitter(
            store: FailingCommitStore(store: store, failing: 1, gate: gate),
            configuration: .loopback(),
            metrics: metrics,
            logger: logger
        )
        let loop = Task { await committer.run() }
        func commit(_ batch: SignedBatch, on lane: IngestLane) async throws -> Result<IngestOutcome, AggregatorError> {
            let item = IngestItem(
                agentID: record.id,
                batch: batch,
                layout: try batch.decodeLayout(),
                receivedNanos: nowNanos()
            )
            let (replies, reply) = AsyncStream.makeStream(of: Result<IngestOutcome, AggregatorError>.self)
            #expect(await committer.reserve(1))
            await committer.enqueue(item, bytes: 1, lane: lane) { reply.yield($0) }
            var iterator = replies.makeAsyncIterator()
            return try #require(await iterator.next())
        }
        let failed = IngestLane()
        guard case .failure(.storage) = try await commit(chain[0], on: failed) else {
            Issue.record("the injected failure did not fail batch 1")
            return
        }
        #expect(failed.halted == 1)
        #expect(try await commit(chain[1], on: failed) == .failure(.heldBack(sequence: 2, after: 1)))
        #expect(try await store.chainHead(agentID: record.id, epoch: agent.epoch) == nil, "batch 2 was not stored")
        let fresh = IngestLane()
        #expect(try await commit(chain[0], on: fresh) == .success(.stored))
        #expect(try await commit(chain[1], on: fresh) == .success(.stored))
        #expect(metrics["batches_held_back"] == 1)
        await committer.shutdownWhenIdle()
        await loop.value
    }

    /// In one transaction, a batch the chain check refuses holds back the later batches of its chain: they are not
    /// stored after the gap the refusal made.
    @Test func aRefusedBatchHoldsBackTheRestOfItsChainInTheSameTransaction() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let store = try SQLiteStore(path: dir.file("db.sqlite"))
        let agent = TestAgent(name: "ws-broken")
        let other = TestAgent(name: "ws-other")
        let record = try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let otherRecord = try await store.enroll(
            name: other.name,
            publicKeyBase64: other.publicKeyBase64,
            atNanos: 1
        )
        let chain = try agent.chain(8)
        try await agent.ingest(Array(chain[..<6]), into: store)
        // Batch 7 names a predecessor that is not the stored batch 6 (chainBroken); batch 8 follows that batch 7.
        let broken = try agent.batch(sequence: 7, previous: .zero, events: agent.events(3, prefix: "forked b7"))
        let after = try agent.batch(sequence: 8, previous: broken.hash, events: agent.events(3, prefix: "forked b8"))
        let bystander = try other.chain(1)[0]
        func item(_ batch: SignedBatch, _ agentID: Int64) throws -> IngestItem {
            IngestItem(agentID: agentID, batch: batch, layout: try batch.decodeLayout(), receivedNanos: nowNanos())
        }
        let outcomes = try await store.ingest([
            try item(broken, record.id), try item(bystander, otherRecord.id), try item(after, record.id),
        ])
        #expect(outcomes.count == 3)
        guard case .refused(.chainBroken, _) = outcomes.first else {
            Issue.record("batch 7 should be refused as chainBroken: \(outcomes)")
            return
        }
        #expect(outcomes.dropFirst() == [.stored, .heldBack(after: 7)])
        #expect(try await store.chainHead(agentID: record.id, epoch: agent.epoch)?.sequence == 6)
        #expect(
            try await store.ingest([try item(chain[6], record.id), try item(chain[7], record.id)]) == [
                .stored, .stored,
            ]
        )
        let gaps = try await DatabaseQueue(path: dir.file("db.sqlite")).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM findings WHERE kind = 'gap'") ?? 0
        }
        #expect(gaps == 0)
    }
}

/// Lets a test hold one transaction until it says so.
actor CommitGate {
    private(set) var entered = false
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Called by the transaction: returns once the gate is open.
    func pass() async {
        self.entered = true
        guard !self.isOpen else { return }
        await withCheckedContinuation { self.waiting.append($0) }
    }

    func open() {
        self.isOpen = true
        for waiter in self.waiting { waiter.resume() }
        self.waiting.removeAll()
    }
}

/// The real SQLite store with one fault injected: the first transaction holding batch `failing` waits at `gate`,
/// then fails with nothing stored, as a commit on a full disk fails. Every other call is the store's own.
final class FailingCommitStore: EvidenceStore {
    let store: SQLiteStore
    let failing: UInt64
    let gate: CommitGate
    private let failed = Mutex(false)

    init(store: SQLiteStore, failing: UInt64, gate: CommitGate) {
        self.store = store
        self.failing = failing
        self.gate = gate
    }

    func ingest(_ items: [IngestItem]) async throws -> [IngestOutcome] {
        let first =
            items.contains { $0.batch.sequence == self.failing }
            && self.failed.withLock { failed in
                defer { failed = true }
                return !failed
            }
        guard first else { return try await self.store.ingest(items) }
        await self.gate.pass()
        throw StoreError.database("disk I/O error (injected: the disk is full)")
    }

    func agent(publicKey: Bytes32) async throws -> AgentRecord? { try await self.store.agent(publicKey: publicKey) }

    func chainHead(agentID: Int64, epoch: UInt64) async throws -> ChainLink.Head? {
        try await self.store.chainHead(agentID: agentID, epoch: epoch)
    }

    func recordHandshake(_ record: HandshakeRecord) async throws { try await self.store.recordHandshake(record) }

    func recordFinding(_ finding: ChainFinding) async throws { try await self.store.recordFinding(finding) }

    func touchAgent(id: Int64, atNanos: Int64) async throws {
        try await self.store.touchAgent(id: id, atNanos: atNanos)
    }

    func redeem(
        token: String,
        publicKey: Bytes32,
        peer: String,
        atNanos: Int64
    ) async throws -> Result<AgentRecord, EnrolmentRefusal> {
        try await self.store.redeem(token: token, publicKey: publicKey, peer: peer, atNanos: atNanos)
    }

    func rotate(_ record: RotationRecord, atNanos: Int64) async throws -> Result<AgentRecord, RotationRefusal> {
        try await self.store.rotate(record, atNanos: atNanos)
    }

    func keyHolder(publicKey: Bytes32) async throws -> (name: String, untilNanos: Int64?)? {
        try await self.store.keyHolder(publicKey: publicKey)
    }
}

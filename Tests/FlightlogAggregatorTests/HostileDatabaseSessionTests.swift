import Crypto
import FlightlogAggregator
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import GRDB
import Testing

@testable import FlightlogStore

/// A database edited by whoever can write its files, met by a session: a value no release writes is a storage
/// failure for the agent it belongs to, and `serve` goes on serving the others. (What the store and `verify` make
/// of such values: `HostileDatabaseTests` in the store's tests.)
@Suite("A database holding what no release writes, at the handshake")
struct HostileDatabaseSessionTests {
    @Test func textInIntegerColumnsIsAStorageErrorAtTheHandshakeAndServeGoesOn() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let path = dir.file("db.sqlite")
        let agent = TestAgent(name: "ws-db")
        do {
            let store = try SQLiteStore(path: path)
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
            try await agent.ingest(try agent.chain(2, eventsPerBatch: 3), into: store)
        }
        func tamper(_ sql: String) throws {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in try db.execute(sql: sql) }
        }
        try tamper("UPDATE chains SET head_seq = 'two'")
        try await withServer(database: path) { port, store, _ in
            let connection = try await agent.connect(port: port)
            try await connection.send(agent.hello())
            guard case .challenge(let challenge) = try await connection.receive() else {
                throw TestFailure("no CHALLENGE")
            }
            let message = Handshake.proofMessage(nonce: challenge.nonce, publicKey: agent.publicKey, epoch: agent.epoch)
            try await connection.send(.proof(Proof(signature: Array(try agent.key.signature(for: message)))))
            #expect(errorCode(try await connection.receive()) == .storageFailure)
            try await connection.waitClosed()
            // A second agent, whose rows are intact, is still served.
            let other = TestAgent(name: "ws-intact")
            try await store.enroll(name: other.name, publicKeyBase64: other.publicKeyBase64, atNanos: 1)
            let (intact, welcome) = try await other.open(port: port)
            #expect(welcome.lastSequence == 0)
            await intact.close()
        }
        try tamper("UPDATE agents SET enrolled_ns = 'yesterday'")
        let store = try SQLiteStore(path: path)
        await #expect(throws: StoreError.self) { _ = try await store.agentSummaries() }
    }
}

import Crypto
import FlightlogEvidence
import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import PostgresNIO
import Testing

/// `flightlog store-roles` (a process): a serve role that stores batches (a new month's partition included) and
/// signs checkpoints, an investigators' role that reads and is audited, and neither able to change evidence.
@Suite("PostgreSQL: least-privilege roles")
struct PostgresRolesTests {
    @Test func serveAndInvestigatorsWorkAndNeitherCanEditEvidence() async throws {
        let database = try await PostgresTestDatabase.make()
        let owner = try await PostgresStore.open(database.location, node: "owner")
        defer { owner.close() }
        let suffix = database.name.suffix(8)
        let (serveRole, readRole) = ("serve_\(suffix)", "read_\(suffix)")
        for role in [serveRole, readRole] {
            try await database.execute("CREATE ROLE \(role) LOGIN PASSWORD 'pw-\(role)'")
        }
        let grant = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            [
                "store-roles", "--store", database.location.description, "--serve-role", serveRole, "--read-role",
                readRole,
            ]
        )
        #expect(grant.status == 0, "\(grant.stderr)")
        let agent = TestAgent(name: "ws-roles")
        try await owner.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)

        func location(_ role: String) -> PostgresLocation {
            var location = database.location
            location.user = role
            location.password = "pw-\(role)"
            return location
        }
        // serve's role: handshakes, batches in a month no partition exists for yet, a checkpoint.
        let serve = try await PostgresStore.open(location(serveRole), node: "node-a")
        defer { serve.close() }
        let event = Event(
            timeNanos: 1_893_456_000_000_000_000,  // 2030-01-01
            observedNanos: 1_893_456_000_000_000_000,
            host: "ws-roles",
            source: "/var/log/auth.log",
            line: Array("login user=mchen".utf8),
            fields: [Event.Field("user", "mchen")]
        )
        let first = try agent.batch(sequence: 1, previous: .zero, events: [event])
        let second = try agent.batch(sequence: 2, previous: first.hash, events: agent.events(3, prefix: "more"))
        try await agent.ingest([first, second], into: serve)
        let signer = CheckpointSigner(privateKey: Curve25519.Signing.PrivateKey())
        #expect(try await serve.makeCheckpoint(signer: signer, atNanos: nowNanos(), onlyWhenGrown: true) != nil)
        #expect(try await owner.partitionCounts()["events_2030_01"] == 1)
        // The investigators' role: reads, and its reading is recorded.
        let read = try await PostgresStore.open(location(readRole), node: "investigator")
        defer { read.close() }
        #expect(try await read.countEvents(EventQuery()) == 4)
        try await read.recordAudit(
            AuditEntry(atNanos: nowNanos(), who: "test", command: "query", arguments: [], resultCount: 4, outcome: "ok")
        )
        #expect(try await read.verify(VerifyOptions(verifier: signer.verifier, nowNanos: nowNanos())).isClean)
        // serve's role redeems a token (which agents ask of it), issued by the owner.
        let token = try await owner.issueToken(
            name: "ws-roles-2",
            expiresNanos: nowNanos() + 60_000_000_000,
            reenroll: false,
            who: "test",
            atNanos: nowNanos()
        )
        let redeemed = try await serve.redeem(
            token: token.token,
            publicKey: TestAgent(name: "ws-roles-2").publicKey,
            peer: "127.0.0.1:1",
            atNanos: nowNanos()
        )
        #expect((try? redeemed.get())?.name == "ws-roles-2")
        // Neither may make or undo a revocation, nor issue tokens; the investigators may not enrol.
        for store in [serve, read] {
            await #expect(throws: StoreError.self) { try await store.revoke(name: agent.name, atNanos: nowNanos()) }
            await #expect(throws: StoreError.self) {
                try await store.issueToken(
                    name: "x",
                    expiresNanos: nowNanos() + 1,
                    reenroll: false,
                    who: "t",
                    atNanos: 1
                )
            }
        }
        await #expect(throws: StoreError.self) {
            try await read.enroll(name: "intruder", publicKeyBase64: TestAgent(name: "x").publicKeyBase64, atNanos: 1)
        }
        for role in [serveRole, readRole] {
            for edit in [
                #"UPDATE events SET "user" = 'nobody'"#, "DELETE FROM batches", "UPDATE checkpoints SET note = ''",
                "DELETE FROM merkle_nodes", "CREATE TABLE notes (x INT)", "UPDATE agents SET revoked_ns = NULL",
                "DELETE FROM rotations", "UPDATE enrolment_tokens SET expires_ns = 0",
            ] {
                await #expect(throws: (any Error).self, "\(role): \(edit)") {
                    try await PostgresTestDatabase.administer(location(role)) { connection in
                        try await connection.query(.init(unsafeSQL: edit), logger: PostgresTestDatabase.logger)
                    }
                }
            }
        }
        await database.drop()
        try await PostgresTestDatabase.administer(try PostgresTestDatabase.server()) { connection in
            for role in [serveRole, readRole] {
                try await connection.query(
                    .init(unsafeSQL: "DROP ROLE IF EXISTS \(role)"),
                    logger: PostgresTestDatabase.logger
                )
            }
        }
    }
}

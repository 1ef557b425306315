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

/// A hot standby of the store's server (streaming replication, scripts/postgres.sh replica): the investigators' reading
/// commands read it with `--read-replica` while their audit entries go to the primary; `--store` on the standby is
/// refused with what to do; `verify` reads the standby alone.
@Suite("PostgreSQL: a read replica")
struct ReplicaTests {
    @Test func readsComeFromTheStandbyAndTheAuditEntriesGoToThePrimary() async throws {
        let database = try await PostgresTestDatabase.make()
        let standbyServer = try PostgresTestDatabase.replicaServer()
        let standby = standbyServer.with(database: database.name)
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let primary = try await PostgresStore.open(database.location, node: "node-a")
        defer { primary.close() }
        let agent = TestAgent(name: "ws-replica")
        try await primary.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        let chain = try agent.chain(6, eventsPerBatch: 5)
        try await agent.ingest(Array(chain[0..<3]), into: primary)
        let flightlog = try Executables.path("flightlog")
        let url = database.location.description

        // Wait until the standby has replayed the three batches (its database and schema first).
        try await PostgresTestDatabase.eventually(seconds: 60, "the standby has replayed 15 events") {
            guard let store = try? await PostgresStore.open(standby, create: false, readOnly: true) else {
                return false
            }
            defer { store.close() }
            return (try? await store.countEvents(EventQuery())) == 15
        }
        // Replay paused, three more batches on the primary: what the standby answers is the standby's.
        try await PostgresTestDatabase.administer(standbyServer) { connection in
            try await connection.query("SELECT pg_wal_replay_pause()", logger: PostgresTestDatabase.logger)
        }
        try await agent.ingest(Array(chain[3..<6]), into: primary)
        let fromStandby = try await Subprocess.runAsync(
            flightlog,
            ["query", "--store", url, "--read-replica", standby.description, "--count"]
        )
        let fromPrimary = try await Subprocess.runAsync(flightlog, ["query", "--store", url, "--count"])
        try await PostgresTestDatabase.administer(standbyServer) { connection in
            try await connection.query("SELECT pg_wal_replay_resume()", logger: PostgresTestDatabase.logger)
        }
        #expect(fromStandby.status == 0, "\(fromStandby.stderr)")
        #expect(fromStandby.stdout == "15\n")
        #expect(fromPrimary.stdout == "30\n")
        // Both runs are in the primary's audit trail.
        let audited = try await primary.auditEntries().filter { $0.command == "query" }
        #expect(audited.count == 2)
        #expect(audited.contains { $0.arguments.contains("--read-replica") && $0.resultCount == 15 })

        // The standby alone cannot take the entry: refused, with what to do.
        let alone = try await Subprocess.runAsync(flightlog, ["query", "--store", standby.description, "--count"])
        #expect(alone.status == 2)
        #expect(alone.stderr.contains("read replica") && alone.stderr.contains("--read-replica"), "\(alone.stderr)")
        let enroll = try await Subprocess.runAsync(
            flightlog,
            [
                "enroll", "--store", standby.description, "--name", "x", "--public-key",
                TestAgent(name: "x").publicKeyBase64,
            ]
        )
        #expect(enroll.status != 0 && enroll.stderr.contains("read replica"), "\(enroll.stderr)")

        // Timeline and hunt read the standby too; verify reads it alone, once it has caught up.
        try await PostgresTestDatabase.eventually(seconds: 60, "the standby has replayed 30 events") {
            guard let store = try? await PostgresStore.open(standby, create: false, readOnly: true) else {
                return false
            }
            defer { store.close() }
            return (try? await store.countEvents(EventQuery())) == 30
        }
        let timeline = try await Subprocess.runAsync(
            flightlog,
            ["timeline", "--store", url, "--read-replica", standby.description, "--format", "jsonl"]
        )
        let primaryTimeline = try await Subprocess.runAsync(
            flightlog,
            ["timeline", "--store", url, "--format", "jsonl"]
        )
        #expect(timeline.status == 0 && timeline.stdout == primaryTimeline.stdout, "\(timeline.stderr)")
        let verify = try await Subprocess.runAsync(
            flightlog,
            ["verify", "--store", url, "--read-replica", standby.description]
        )
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("6 batches"), "\(verify.stdout)")
        // The run read the standby and is recorded on the primary: `verify --history` lists it.
        let runs = try await primary.verifyRuns()
        #expect(runs.count == 1 && runs.first?.outcome == "clean" && runs.first?.batches == 6, "\(runs)")
        let history = try await Subprocess.runAsync(
            flightlog,
            ["verify", "--store", url, "--history", "--format", "json"]
        )
        #expect(
            history.status == 0 && history.stdout.contains("\"outcome\":\"clean\""),
            "\(history.stdout)\(history.stderr)"
        )
        let bad = try await Subprocess.runAsync(flightlog, ["query", "--read-replica", standby.description])
        #expect(bad.status != 0 && bad.stderr.contains("--read-replica needs --store"), "\(bad.stderr)")
        await database.drop()
    }
}

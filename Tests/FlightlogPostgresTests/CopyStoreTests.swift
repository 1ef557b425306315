import FlightlogEvidence
import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogStore
import FlightlogStoreTestSupport
import FlightlogTestSupport
import FlightlogWire
import Foundation
import Testing

/// `flightlog copy-store` as a process, from an SQLite store with findings of every origin and a signed checkpoint:
/// the PostgreSQL copy has the same tree root, events and findings, `verify --store` is clean against the SQLite
/// store's site key, and a second run (or one resumed from an earlier point) adds nothing.
@Suite("PostgreSQL: copy-store from SQLite")
struct CopyStoreTests {
    @Test func aCopyHasTheSameTreeEventsAndFindingsAndVerifiesClean() async throws {
        let database = try await PostgresTestDatabase.make()
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let path = scratch.file("flightlog.db")
        let keyPath = AggregatorKeyFile.defaultPath(database: path)
        // The SQLite store: two agents; a gap filled late, an equivocation refused, a second epoch; a checkpoint.
        let sqlite = try Storage.open(path: path)
        let first = TestAgent(name: "ws-copy-1")
        let second = TestAgent(name: "ws-copy-2")
        let firstID = try await sqlite.enroll(name: first.name, publicKeyBase64: first.publicKeyBase64, atNanos: 1).id
        try await sqlite.enroll(name: second.name, publicKeyBase64: second.publicKeyBase64, atNanos: 1)
        let chain = try first.chain(6, eventsPerBatch: 4)
        for batch in [chain[0], chain[1], chain[3], chain[2], chain[4], chain[5]] {
            try await first.ingest([batch], into: sqlite)
        }
        let forged = try first.batch(sequence: 2, previous: chain[0].hash, events: first.events(1, prefix: "forged"))
        let refused = try await sqlite.ingest([
            IngestItem(agentID: firstID, batch: forged, layout: try forged.decodeLayout(), receivedNanos: nowNanos())
        ])
        #expect(refused.first?.isRefusal == true)
        try await second.ingest(try second.chain(3, eventsPerBatch: 2), into: sqlite)
        var reinstalled = second
        reinstalled.epoch = 2
        try await reinstalled.ingest(try reinstalled.chain(2, eventsPerBatch: 2), into: sqlite)
        let signer = try AggregatorKeyFile.loadOrCreate(keyPath)
        _ = try await sqlite.makeCheckpoint(signer: signer, atNanos: nowNanos(), onlyWhenGrown: false)
        let size = try await sqlite.treeSize()
        #expect(size == 11)

        let url = database.location.description
        let copy = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["copy-store", "--from", path, "--to", url, "--batches-per-transaction", "4"]
        )
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdout.contains("2 agents, 11 batches (0 already there)"), "\(copy.stdout)")

        let postgres = try await PostgresStore.open(database.location, node: "checker")
        defer { postgres.close() }
        #expect(try await postgres.treeSize() == size)
        #expect(try await postgres.treeRoot(size: size) == (try await sqlite.treeRoot(size: size)))
        #expect(try await postgres.countEvents(EventQuery()) == (try await sqlite.counts().events))
        let kinds = { (findings: [ChainFinding]) in findings.map(\.kind.rawValue).sorted() }
        #expect(kinds(try await postgres.findings()) == kinds(try await sqlite.findings()))
        #expect(kinds(try await postgres.findings()).contains("equivocation"))

        let verify = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["verify", "--store", url, "--aggregator-key", keyPath + ".pub"]
        )
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("11 batches") && verify.stdout.contains("1 checkpoints"), "\(verify.stdout)")

        // Run again, and again from an earlier point as after a crash between a commit and its progress record:
        // nothing is added.
        try await database.execute("UPDATE copy_progress SET through_id = 3, finished = FALSE")
        try await database.execute("DELETE FROM findings WHERE kind = 'equivocation'")
        let again = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["copy-store", "--from", path, "--to", url]
        )
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("0 agents, 0 batches (8 already there)"), "\(again.stdout)")
        #expect(try await postgres.treeSize() == size)
        #expect(try await postgres.checkpoints().count == 1)
        #expect(kinds(try await postgres.findings()) == kinds(try await sqlite.findings()))
        await database.drop()
    }

    @Test func aStoreThatIsServedIsNotCopied() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let path = scratch.file("flightlog.db")
        _ = try Storage.open(path: path)
        let port = try ThreeNodeTests.freePort()
        let log = scratch.file("serve.log")
        let serve = try Subprocess(
            try Executables.path("flightlog"),
            ["serve", "--db", path, "--listen", "127.0.0.1:\(port)", "--insecure-plaintext"],
            stdout: log,
            stderr: log
        )
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        try await ThreeNodeTests.eventually(seconds: 60, "serve listening", node: serve, log: log) {
            (try? String(contentsOfFile: log, encoding: .utf8))?.contains("listening on") == true
        }
        let copy = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            ["copy-store", "--from", path, "--to", try PostgresTestDatabase.server().description]
        )
        #expect(copy.status == 2)
        #expect(copy.stderr.contains("the copy is made offline"), "\(copy.stderr)")
    }
}

extension IngestOutcome {
    var isRefusal: Bool {
        if case .refused = self { return true }
        return false
    }
}

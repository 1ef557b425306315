public import FlightlogEvidence
public import FlightlogStore
public import FlightlogTestSupport
public import Foundation
public import GRDB

/// A database of real signed batches stored through the store's ingest: agents ws-a then ws-b, four batches of five
/// events each (leaves 0–3 are ws-a's, 4–7 ws-b's), the full-text index complete, and a signed checkpoint of all
/// eight leaves.
///
/// Built once per test process; each ``make()`` hands out a copy of its own, which a test may tamper with.
public struct EvidenceFixture: Sendable {
    public let dir: TempDirectory
    public let path: String
    public let signer: CheckpointSigner
    public let a: TestAgent
    public let b: TestAgent
    /// The first checkpoint's note, as `flightlog checkpoint --out` would have copied it off the machine.
    public let externalNote: String

    /// A fresh copy of the fixture's database, its full-text files with it.
    public static func make() async throws -> EvidenceFixture {
        let original = try await Self.original.value
        let dir = try TempDirectory()
        let path = dir.file("db.sqlite")
        // SQLite's backup API copies each file consistently, whatever its write-ahead log holds, through connections
        // the original keeps open (a last connection closing would checkpoint under a copy running beside it).
        for (source, destination) in zip(original.connections, [path] + FullTextLayout.paths(for: path)) {
            let copy = try DatabaseQueue(path: destination)
            try source.backup(to: copy)
            try copy.close()
        }
        let fixture = original.fixture
        return EvidenceFixture(
            dir: dir,
            path: path,
            signer: fixture.signer,
            a: fixture.a,
            b: fixture.b,
            externalNote: fixture.externalNote
        )
    }

    /// The database every copy is made from, built by the first test that asks, and a connection to each of its
    /// files.
    private static let original = Task { try await Self.build() }

    private static func build() async throws -> (fixture: EvidenceFixture, connections: [DatabaseQueue]) {
        let dir = try TempDirectory.untilExit()
        let path = dir.file("db.sqlite")
        let signer = try AggregatorKeyFile.loadOrCreate(dir.file("aggregator.key"))
        let (a, b) = (TestAgent(name: "ws-a"), TestAgent(name: "ws-b"))
        let store = try Storage.open(path: path)
        for agent in [a, b] {
            try await store.enroll(name: agent.name, publicKeyBase64: agent.publicKeyBase64, atNanos: 1)
        }
        for agent in [a, b] { try await agent.ingest(try agent.chain(4), into: store) }
        // Verify checks the full-text index only up to the indexer's watermark: complete it first.
        try await store.drainFullTextIndex()
        guard let checkpoint = try await store.makeCheckpoint(signer: signer, atNanos: nowNanos()) else {
            throw TestFailure("no checkpoint of the fixture's tree")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        let connections = try ([path] + FullTextLayout.paths(for: path)).map {
            try DatabaseQueue(path: $0, configuration: configuration)
        }
        let fixture = EvidenceFixture(dir: dir, path: path, signer: signer, a: a, b: b, externalNote: checkpoint.note)
        return (fixture, connections)
    }

    public func verify(
        mode: VerifyOptions.Mode = .full,
        external: String? = nil,
        agent: String? = nil,
        deep: Bool = false
    ) async throws -> VerifyReport {
        // As `flightlog verify` opens it: an unreadable index file is a finding, not a reason to stop.
        let store = try Storage.open(path: self.path, onDamagedIndex: .leaveOut)
        var options = VerifyOptions(
            mode: mode,
            agentName: agent,
            externalCheckpoints: external.map { SignedCheckpoint.parseFile($0) } ?? [],
            verifier: self.signer.verifier,
            nowNanos: nowNanos()
        )
        options.deep = deep
        return try await store.verify(options)
    }

    /// Runs `sql` on the file with a plain SQLite connection, as an insider with write access would.
    public func tamper(_ sql: String, arguments: StatementArguments = []) throws {
        let queue = try DatabaseQueue(path: self.path)
        try queue.writeWithoutTransaction { db in
            // The lines are read from the signed batches, as the store's readers read them (a contentless full-text
            // delete needs the original text).
            try EventContentFunctions.register(db)
            // The full-text index lives in files of its own (even event ids in `fts`, odd ones in `fts1`); the
            // insider attaches them as the store's readers do.
            try db.execute(sql: "ATTACH DATABASE ? AS fts", arguments: [FullTextLayout.path(for: self.path, file: 0)])
            try db.execute(sql: "ATTACH DATABASE ? AS fts1", arguments: [FullTextLayout.path(for: self.path, file: 1)])
            try db.inTransaction {
                try db.execute(sql: sql, arguments: arguments)
                return .commit
            }
        }
    }

    public func envelope(batchID: Int64) throws -> Data {
        let queue = try DatabaseQueue(path: self.path)
        return try queue.read { db in
            try Data.fetchOne(db, sql: "SELECT envelope FROM batches WHERE id = ?", arguments: [batchID])
        } ?? Data()
    }
}

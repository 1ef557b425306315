import FlightlogPostgres
import FlightlogPostgresTestSupport
import FlightlogTestSupport
import Foundation
import Testing

/// The store an end-to-end site's aggregator writes: the SQLite file, or a PostgreSQL database of its own on the
/// server scripts/test.sh starts (`serve --store`, one node), so that the kill and fault tests hold both.
enum SiteStore: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self.rawValue }
}

/// What the end-to-end fault tests start from (issue 21's harness): a scratch folder, kept when
/// `FLIGHTLOG_KEEP_SCRATCH` is set; a database with one agent's key (`agent.key`) enrolled under `agent`; a free
/// port for the aggregator. The caller removes the folder (`scratch.cleanup()`).
struct EndToEndSite {
    let scratch: TempDirectory
    /// The SQLite file (with `.sqlite`).
    let db: String
    let port: Int
    let agent: String
    /// The PostgreSQL database (with `.postgres`), and the store opened on it for the checks.
    let postgres: (database: PostgresTestDatabase, store: PostgresStore)?

    init(agent: String, store: SiteStore = .sqlite) async throws {
        self.scratch = try TempDirectory()
        if ProcessInfo.processInfo.environment["FLIGHTLOG_KEEP_SCRATCH"] != nil { self.scratch.keep() }
        self.db = self.scratch.file("flightlog.db")
        self.agent = agent
        var postgres: PostgresTestDatabase?
        if store == .postgres { postgres = try await PostgresTestDatabase.make() }
        let storeArguments = postgres.map { ["--store", $0.location.description] } ?? ["--db", self.db]
        try await Harness.enrollNewAgent(keyPath: self.scratch.file("agent.key"), store: storeArguments, name: agent)
        if let postgres {
            self.postgres = (postgres, try await PostgresStore.open(postgres.location, node: "checker", create: false))
        } else {
            self.postgres = nil
        }
        self.port = try Harness.freePort()
    }

    /// `--db FILE` or `--store URL`: where the `flightlog` commands find the site's store.
    var storeArguments: [String] {
        self.postgres.map { ["--store", $0.database.location.description] } ?? ["--db", self.db]
    }

    /// The store arguments of `flightlog serve`: the SQLite file, or the PostgreSQL store as one node signing with
    /// the site key `site.key`.
    var serveArguments: [String] {
        guard let postgres else { return ["--db", self.db] }
        return [
            "--store", postgres.database.location.description, "--node", "e2e-node", "--aggregator-key",
            self.scratch.file("site.key"), "--status-file", self.scratch.file("serve.status.json"),
        ]
    }

    /// `flightlog verify` on the site's store (against the site key on PostgreSQL).
    func verify() async throws -> (code: Int32, out: String, err: String) {
        let key = self.postgres == nil ? [] : ["--aggregator-key", self.scratch.file("site.key.pub")]
        return try await Harness.runAsync("flightlog", ["verify"] + self.storeArguments + key)
    }

    /// Drops the PostgreSQL database (nothing for SQLite: the scratch folder holds it).
    func close() async {
        guard let postgres else { return }
        postgres.store.close()
        await postgres.database.drop()
    }

    /// `flightlog serve` on the site's port, logging to `serve.log`, once it listens; `environment` replaces the test
    /// process's.
    func startServer(environment: [String: String]? = nil) async throws -> Subprocess {
        try await Harness.startQuietServeAndWaitForPort(
            store: self.serveArguments,
            port: self.port,
            log: self.scratch.file("serve.log"),
            environment: environment
        )
    }

    /// The enrolled agent reading `sources` (``Harness/startAgent(scratch:port:hostname:sources:key:state:log:extra:environment:)``).
    func startAgent(
        sources: [String],
        extra: [String] = ["--insecure-plaintext"],
        environment: [String: String]? = nil
    ) throws -> Subprocess {
        try Harness.startAgent(
            scratch: self.scratch,
            port: self.port,
            hostname: self.agent,
            sources: sources,
            extra: extra,
            environment: environment
        )
    }

    /// The enrolled agent's lines in the index.
    var index: IndexedLines { IndexedLines(db: self.db, agent: self.agent, postgres: self.postgres?.store) }

    /// The checker's last step: waits until the `expected` lines are indexed, stops `agent` (which must exit 0) and
    /// `server`, and expects every expected line stored exactly once and nothing else. Returns the stored lines, in
    /// index order, for the test's own checks.
    @discardableResult
    func stopAndExpectExactlyOnce(_ expected: [String], agent: Subprocess, server: Subprocess) async throws -> [String]
    {
        let index = self.index
        try await index.waitFor(count: expected.count, scratch: self.scratch)
        let status = try await IndexedLines.stop(
            agent: agent,
            server: server,
            stateDirectory: self.scratch.file("state")
        )
        #expect(status == 0)
        let stored = try await index.read()
        IndexedLines.expectExactlyOnce(stored, expected)
        return stored
    }
}

import FlightlogTestSupport
import Foundation
import Testing

/// What the end-to-end fault tests start from (issue 21's harness): a scratch folder, kept when
/// `FLIGHTLOG_KEEP_SCRATCH` is set; a database with one agent's key (`agent.key`) enrolled under `agent`; a free
/// port for the aggregator. The caller removes the folder (`scratch.cleanup()`).
struct EndToEndSite {
    let scratch: TempDirectory
    let db: String
    let port: Int
    let agent: String

    init(agent: String) async throws {
        self.scratch = try TempDirectory()
        if ProcessInfo.processInfo.environment["FLIGHTLOG_KEEP_SCRATCH"] != nil { self.scratch.keep() }
        self.db = self.scratch.file("flightlog.db")
        self.agent = agent
        try await Harness.enrollNewAgent(keyPath: self.scratch.file("agent.key"), db: self.db, name: agent)
        self.port = try Harness.freePort()
    }

    /// `flightlog serve` on the site's port, logging to `serve.log`, once it listens; `environment` replaces the test
    /// process's.
    func startServer(environment: [String: String]? = nil) async throws -> Subprocess {
        try await Harness.startQuietServeAndWaitForPort(
            db: self.db,
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
    var index: IndexedLines { IndexedLines(db: self.db, agent: self.agent) }

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

import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

extension FaultInjectionTests {
    /// `kill -9` at chosen points rather than at random moments (issue 21): a debug build's failpoint (Failpoint.swift)
    /// kills the process exactly there, and writes the point's name first, so each test asserts that its point was
    /// reached. After a restart every line is indexed exactly once and `verify` is clean.
    @Suite("End to end: kill -9 at chosen points", .serialized)
    struct FailpointTests {
        enum Victim { case agent, aggregator }

        struct Point: CustomTestStringConvertible, Sendable {
            var name: String
            var hit: Int
            var victim: Victim
            var rotate: Bool
            var testDescription: String { self.name }
        }

        static let points: [Point] = [
            // The batch's spool file is durable; chain.json does not name it yet: an orphan, deleted on start, its lines
            // read again.
            Point(name: "agent.commit.after-spool-write", hit: 3, victim: .agent, rotate: false),
            // chain.json's new content is fsynced under its temporary name, not renamed: the old state stands.
            Point(name: "agent.commit.state-synced-before-rename", hit: 3, victim: .agent, rotate: false),
            // A rotation seen and its lines read, nothing of it committed yet.
            Point(name: "agent.rotation-seen-before-commit", hit: 1, victim: .agent, rotate: true),
            // The transaction committed, no ACK sent: the agent must send the batches again and they must not be stored
            // twice.
            Point(name: "aggregator.committed-before-ack", hit: 3, victim: .aggregator, rotate: false),
        ]

        @Test(arguments: Self.points, SiteStore.allCases)
        func aKillAtThePointLosesAndRepeatsNothing(_ point: Point, _ store: SiteStore) async throws {
            let site = try await EndToEndSite(agent: "ws-fp", store: store)
            let scratch = site.scratch
            defer { scratch.cleanup() }
            let logs = scratch.file("logs")
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let mark = scratch.file("failpoint.reached")
            var environment = ProcessInfo.processInfo.environment
            environment["FLIGHTLOG_FAILPOINT"] = "\(point.name)@\(point.hit)"
            environment["FLIGHTLOG_FAILPOINT_MARK"] = mark

            func startServer(armed: Bool) async throws -> Subprocess {
                try await site.startServer(environment: armed ? environment : nil)
            }
            func startAgent(armed: Bool) throws -> Subprocess {
                try site.startAgent(sources: ["--watch", logs + "/app.log*"], environment: armed ? environment : nil)
            }

            var server = try await startServer(armed: point.victim == .aggregator)
            var agent = try startAgent(armed: point.victim == .agent)
            defer {
                for process in [agent, server] where process.isRunning { Harness.killHard(process) }
            }
            let app = LogWriter(path: logs + "/app.log")
            var expected: [String] = []
            var chunk = 0
            func writeChunk() throws {
                let lines = (0..<20).map { "app chunk=\(chunk) n=\($0) \(point.name)" }
                try app.append(lines)
                expected += lines
                if point.rotate && chunk % 3 == 2 { try app.rotate(keep: 4) }
                chunk += 1
            }
            // Write until the failpoint fires, each chunk after the previous one was read (each makes a batch).
            let victim = point.victim == .agent ? agent : server
            try await Harness.eventuallyAsync(seconds: 90, "failpoint \(point.name) reached") {
                if FileManager.default.fileExists(atPath: mark) { return true }
                try writeChunk()
                try await Task.sleep(for: .milliseconds(150))
                return FileManager.default.fileExists(atPath: mark)
            }
            #expect(await victim.exited() == 128 + SIGKILL, "the failpoint kills with SIGKILL")
            #expect(try String(contentsOfFile: mark, encoding: .utf8) == point.name)

            if point.victim == .agent {
                agent = try startAgent(armed: false)
            } else {
                server = try await startServer(armed: false)
            }
            for _ in 0..<3 { try writeChunk() }

            try await site.stopAndExpectExactlyOnce(expected, agent: agent, server: server)
            if point.victim == .aggregator {
                // The batches committed before the kill were never acknowledged; the new aggregator's WELCOME named them
                // stored, and the agent dropped them from its spool without sending them again.
                let counters = try await Harness.runAsync(
                    "flightlog-agent",
                    ["status", "--state-dir", scratch.file("state")]
                ).out
                let line = counters.split(separator: "\n").first { $0.contains("batches_acked_by_welcome") }
                let count = line.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "=" }).last }
                    .flatMap { Int($0) }
                #expect((count ?? 0) >= 1, "\(counters)")
            }
            let verify = try await site.verify()
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
            if store == .sqlite {
                let integrity = try await Harness.runAsync("flightlog", ["status", "--db", site.db])
                #expect(integrity.code == 0)
            }
            await site.close()
        }

        /// tmpfs never fails an fsync, so a test build injects the failure (`FLIGHTLOG_FAILPOINT_ERROR`): three fsyncs
        /// of the agent's durable writes fail. The batch is not taken as committed: reading pauses, the commit is retried,
        /// the pause ships as a `spool_write_failed` event, and every line arrives once.
        @Test func anFsyncErrorIsNeverTakenForSuccess() async throws {
            let site = try await EndToEndSite(agent: "ws-fsync")
            defer { site.scratch.cleanup() }
            try await Self.streamWithInjectedError("agent.durable-write.fsync@4:3", into: .agent, site: site)
            let log = (try? String(contentsOfFile: site.scratch.file("agent.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("EIO injected by a test build"), "\(log.suffix(2000))")
            let store = try await SQLiteStore(readOnlyPath: site.db).lines(agentName: "ws-fsync")
                .map { String(decoding: $0, as: UTF8.self) }
            #expect(
                store.contains { $0.hasPrefix("flightlog-agent could not write its spool for") },
                "\(store.suffix(5))"
            )
        }

        /// The same under the aggregator's SQLite: a test build's VFS (CSQLiteFaults) makes syncs 3 to 6 of `serve`
        /// fail with SQLITE_IOERR_FSYNC, so commits fail as on a disk whose fsync reports EIO: none of them is
        /// acknowledged, the agent keeps and resends its batches, the database stays whole.
        @Test func anSQLiteFsyncErrorIsNeverAcknowledged() async throws {
            let site = try await EndToEndSite(agent: "ws-sqlite-fsync")
            let scratch = site.scratch
            defer { scratch.cleanup() }
            try await Self.streamWithInjectedError("sqlite.fsync@3:4", into: .aggregator, site: site)
            // The point was reached: a commit failed on the injected error and was answered as a storage failure.
            let serveLog = (try? String(contentsOfFile: scratch.file("serve.log"), encoding: .utf8)) ?? ""
            #expect(
                serveLog.contains("Commit failed") && serveLog.contains("disk I/O error"),
                "\(serveLog.suffix(2000))"
            )
            let agentLog = (try? String(contentsOfFile: scratch.file("agent.log"), encoding: .utf8)) ?? ""
            #expect(agentLog.contains("storageFailure"), "\(agentLog.suffix(2000))")
        }

        /// Streams 80 lines (8 chunks, 200 ms apart) from a real agent to a real aggregator on `site`, `victim` run with
        /// `FLIGHTLOG_FAILPOINT_ERROR=failpoint`; stops both and checks that the agent exited cleanly, every line is
        /// indexed exactly once and `verify --deep` is clean.
        private static func streamWithInjectedError(
            _ failpoint: String,
            into victim: Victim,
            site: EndToEndSite
        ) async throws {
            var injected = ProcessInfo.processInfo.environment
            injected["FLIGHTLOG_FAILPOINT_ERROR"] = failpoint
            let server = try await site.startServer(environment: victim == .aggregator ? injected : nil)
            defer { if server.isRunning { Harness.killHard(server) } }
            let agent = try site.startAgent(
                sources: ["--watch", site.scratch.file("app.log")],
                environment: victim == .agent ? injected : nil
            )
            defer { if agent.isRunning { Harness.killHard(agent) } }
            let app = LogWriter(path: site.scratch.file("app.log"))
            var expected: [String] = []
            for chunk in 0..<8 {
                let lines = (0..<10).map { "\(site.agent) chunk=\(chunk) n=\($0)" }
                try app.append(lines)
                expected += lines
                try await Task.sleep(for: .milliseconds(200))
            }
            try await site.stopAndExpectExactlyOnce(expected, agent: agent, server: server)
            let verify = try await Harness.runAsync("flightlog", ["verify", "--deep", "--db", site.db])
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
        }
    }
}

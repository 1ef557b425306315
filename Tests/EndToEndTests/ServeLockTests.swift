import FlightlogTestSupport
import Foundation
import Glibc
import Testing

/// One `serve` per database: a second one started by mistake refuses and names the first; once the first is gone
/// (here `kill -9`, which leaves no chance to clean up) a new one starts.
@Suite("flightlog serve: one server per database", .serialized)
struct ServeLockTests {
    @Test func aSecondServerOnTheSameDatabaseRefusesAndNamesTheFirst() async throws {
        let scratch = try TempDirectory()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let first = try Harness.freePort()
        let server = try Harness.startServe(db: db, port: first, log: scratch.file("first.log"))
        defer { Harness.killHard(server) }
        try await Harness.eventuallyAsync(
            seconds: 60,
            "the first server is up",
            from: server,
            log: scratch.file("first.log")
        ) {
            Harness.status(db: db)?.pid == server.processIdentifier
        }

        // Started in the background: a second server that does not refuse serves on and never exits.
        let second = try Harness.freePort()
        let log = scratch.file("second.log")
        let refused = try Harness.startServe(db: db, port: second, log: log)
        defer { Harness.killHard(refused) }
        try await Harness.eventuallyAsync(seconds: 60, "the second server exits") { !refused.isRunning }
        #expect(refused.terminationStatus == 2)
        let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(
            message.contains(
                "another `flightlog serve` (pid \(server.processIdentifier), listening on 127.0.0.1:\(first)) is "
                    + "already serving this database"
            ),
            "\(message)"
        )
        #expect(!Harness.isListening(second))
        #expect(Harness.status(db: db)?.pid == server.processIdentifier, "the first server's status file is left alone")

        Harness.killHard(server)
        let next = try Harness.startServe(db: db, port: second, log: scratch.file("next.log"))
        defer { Harness.killHard(next) }
        try await Harness.eventuallyAsync(
            seconds: 60,
            "a server starts once the first is gone",
            from: next,
            log: scratch.file("next.log")
        ) {
            Harness.status(db: db)?.pid == next.processIdentifier && Harness.isListening(second)
        }
    }
}

import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import GRDB
import Testing

@testable import FlightlogStore

/// A copy of the evidence on read-only media (a write-blocked disk), as an investigator receives it: a real
/// read-only bind mount, so SQLite can create no `-shm` file and nothing, not even root, can write.
@Suite("Investigator commands on a copy on read-only media", .enabled(if: getuid() == 0, "needs mount (root)"))
struct ReadOnlyMediaTests {
    /// The incident database copied (database, index files, aggregator verifier key) into a
    /// directory that is then bind-mounted read-only at `mount`.
    final class ReadOnlyCopy {
        let source: TempDirectory
        let mount: TempDirectory
        var database: String { self.mount.file("flightlog.db") }

        /// `prepare` runs on the copied database's path before the directory is mounted read-only.
        init(
            _ fixture: IncidentFixture,
            extraFiles: [String: Data] = [:],
            prepare: (String) throws -> Void = { _ in }
        ) throws {
            self.source = try TempDirectory()
            self.mount = try TempDirectory()
            // A consistent copy of each file through SQLite's backup API (the shared fixture stays open elsewhere).
            // Other tests open and close the shared fixture meanwhile, and the last connection to close checkpoints
            // and removes the write-ahead log under an exclusive lock: the copy waits for it instead of failing
            // with "database is locked" (it did once in CI).
            var patient = Configuration()
            patient.readonly = true
            patient.busyMode = .timeout(60)
            let files = [fixture.database] + FullTextLayout.paths(for: fixture.database)
            for from in files {
                let name = "flightlog.db" + from.dropFirst(fixture.database.count)
                try DatabaseQueue(path: from, configuration: patient)
                    .backup(to: DatabaseQueue(path: self.source.file(name)))
                for suffix in ["-wal", "-shm"] {
                    try? FileManager.default.removeItem(atPath: self.source.file(name) + suffix)
                }
            }
            try FileManager.default.copyItem(
                atPath: fixture.aggregatorKey + ".pub",
                toPath: self.source.file("aggregator.pub")
            )
            for (name, data) in extraFiles {
                guard FileManager.default.createFile(atPath: self.source.file(name), contents: data) else {
                    throw TestFailure("could not create \(name)")
                }
            }
            try prepare(self.source.file("flightlog.db"))
            try Self.sh("mount", "--bind", self.source.path, self.mount.path)
            try Self.sh("mount", "-o", "remount,bind,ro", self.mount.path)
        }

        deinit {
            try? Self.sh("umount", self.mount.path)
            self.mount.cleanup()
            self.source.cleanup()
        }

        static func sh(_ arguments: String...) throws {
            let status = try Subprocess.run("/usr/bin/env", arguments).status
            guard status == 0 else { throw TestFailure("\(arguments) exited \(status)") }
        }
    }

    @Test func queryAndVerifyWorkAndSayTheyAreNotRecorded() async throws {
        let fixture = try await SharedIncident.shared.get()
        let copy = try ReadOnlyCopy(fixture)
        #expect(SQLiteStore.isOnReadOnlyMedia(copy.database))
        #expect(!FileManager.default.createFile(atPath: copy.mount.file("probe"), contents: Data()))

        let query = try await FlightlogCLI.run(["query", "--db", copy.database, "--user", "mchen", "--count"])
        #expect(query.status == 0, "\(query.stderr)")
        #expect(Int(query.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0)
        #expect(query.stderr.contains("read-only file system: this query is not recorded"))

        let match = try await FlightlogCLI.run([
            "query", "--db", copy.database, "--match", "AnyDesk", "--format", "jsonl",
        ])
        #expect(match.status == 0, "\(match.stderr)")
        #expect(match.lines.count == 1)

        let verify = try await FlightlogCLI.run([
            "verify", "--db", copy.database, "--aggregator-key", copy.mount.file("aggregator.pub"),
        ])
        // The incident has a chain gap on cc-ws-611 (a finding), and nothing else.
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("gap"))
        #expect(!verify.stdout.contains("fts_"))
        #expect(verify.stdout.contains("not recorded (read-only media)"))
    }

    /// A copy whose full-text file an older version wrote (two tables, before index-file migration v8), which
    /// nothing can upgrade on read-only media: `--match` still answers, a hunt scans and finds what it finds on the
    /// current layout, and `verify` says the index was not checked instead of reporting every row of it.
    @Test func aCopyWithAnOlderFullTextFileIsReadAndSaysWhatWasNotChecked() async throws {
        let fixture = try await SharedIncident.shared.get()
        let copy = try ReadOnlyCopy(fixture) { database in
            let fts = try DatabaseQueue(path: database + ".fts")
            try fts.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS store", arguments: [database])
                try OlderIndexFile.writeTwoTableLayout(db)
            }
            try fts.close()
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + ".fts" + suffix) }
            OlderIndexFile.removeSecondFile(of: database)
        }
        let events = try await SQLiteStore(readOnlyPath: fixture.database).counts().events

        let match = try await FlightlogCLI.run([
            "query", "--db", copy.database, "--match", "AnyDesk", "--format", "jsonl",
        ])
        #expect(match.status == 0, "\(match.stderr)")
        #expect(match.lines.count == 1)

        let arguments = ["hunt", "--rules", RepositoryFiles.rulePack, "--format", "jsonl"]
        let current = try await FlightlogCLI.run(arguments + ["--db", fixture.database])
        let older = try await FlightlogCLI.run(arguments + ["--db", copy.database])
        #expect(older.status == current.status, "\(older.stderr)")
        #expect(!older.lines.isEmpty)
        #expect(older.lines == current.lines)

        let verify = try await FlightlogCLI.run([
            "verify", "--db", copy.database, "--aggregator-key", copy.mount.file("aggregator.pub"),
        ])
        // The incident's chain gap, and the index reported as not checked rather than as findings.
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        #expect(!verify.stdout.contains("fts_"), "\(verify.stdout)")
        #expect(verify.stdout.contains("trailing by \(events) events (not checked)"), "\(verify.stdout)")
    }

    /// A `-wal` file next to the copy holds transactions an immutable open would not see: refused, with what to do.
    @Test func aCopyWithALeftoverWriteAheadLogIsRefusedWithAHint() async throws {
        let fixture = try await SharedIncident.shared.get()
        let copy = try ReadOnlyCopy(fixture, extraFiles: ["flightlog.db-wal": Data(repeating: 1, count: 4096)])
        let query = try await FlightlogCLI.run(["query", "--db", copy.database, "--count"])
        #expect(query.status == 2)
        #expect(query.stderr.contains("read-only file system"))
        #expect(query.stderr.contains("wal_checkpoint(TRUNCATE)"))
    }
}

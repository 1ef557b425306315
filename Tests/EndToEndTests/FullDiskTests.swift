import FlightlogTestSupport
import Foundation
import Glibc
import Testing

@testable import FlightlogStore

extension FaultInjectionTests {
    /// A real full file system under the aggregator's database, WAL and full-text files (issue 21): a small tmpfs in a
    /// private mount namespace (`unshare -m`, root only), filled while the agent streams. Nothing is acknowledged that
    /// was not committed, nothing is corrupted, and once space returns ingestion resumes and every line is indexed
    /// exactly once.
    @Suite("End to end: a full disk under the aggregator", .serialized)
    struct FullDiskTests {
        /// Kills (SIGKILL) the process whose pid the file at `path` holds, if any.
        static func killRecorded(_ path: String) {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
            else { return }
            kill(pid, SIGKILL)
        }

        static var canRun: Bool {
            getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter")
        }

        /// Inside the namespace: a 24 MiB tmpfs holding the database, the aggregator on it; when the aggregator has
        /// stopped, the database is copied out for the checks.
        static let script = #"""
            set -eu
            serve="$1"; seed="$2"; dbdir="$3"; out="$4"; port="$5"; pidfile="$6"
            mkdir -p "$dbdir"
            mount -t tmpfs -o size=24m tmpfs "$dbdir"
            cp -a "$seed"/. "$dbdir"/
            "$serve" serve --db "$dbdir/flightlog.db" --listen "127.0.0.1:$port" --insecure-plaintext --log-level warning &
            serve_pid=$!
            echo $serve_pid >"$pidfile"
            wait $serve_pid || true
            rm -f "$dbdir/filler"
            mkdir -p "$out"
            cp -a "$dbdir"/. "$out"/
            """#

        @Test(.enabled(if: canRun)) func aFullDiskDelaysAcknowledgementsAndLosesNothing() async throws {
            let scratch = try TempDirectory()
            if ProcessInfo.processInfo.environment["FLIGHTLOG_KEEP_SCRATCH"] != nil { scratch.keep() }
            defer { scratch.cleanup() }
            try FileManager.default.createDirectory(atPath: scratch.file("seed"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: scratch.file("logs"), withIntermediateDirectories: true)
            try await Harness.enrollNewAgent(
                keyPath: scratch.file("agent.key"),
                db: scratch.file("seed/flightlog.db"),
                name: "ws-full"
            )
            let port = try Harness.freePort()
            let dbdir = scratch.file("db")
            try Self.script.write(toFile: scratch.file("full-disk.sh"), atomically: true, encoding: .utf8)
            let namespace = try Subprocess(
                "/usr/bin/unshare",
                [
                    "-m", "/bin/bash", scratch.file("full-disk.sh"), try Executables.path("flightlog"),
                    scratch.file("seed"),
                    dbdir, scratch.file("out"), String(port), scratch.file("serve.pid"),
                ],
                stdout: scratch.file("serve.log"),
                stderr: scratch.file("serve.log")
            )
            defer {
                // The aggregator inside the namespace is the script's child: killing the script alone would leave it.
                Self.killRecorded(scratch.file("serve.pid"))
                if namespace.isRunning { namespace.signal(SIGKILL) }
            }
            try await Harness.eventuallyAsync(seconds: 60, "server listening") { Harness.isListening(port) }
            let servePID = try String(contentsOfFile: scratch.file("serve.pid"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            func inNamespace(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
                try await Subprocess.runAsync("/usr/bin/nsenter", ["-t", servePID, "-m"] + arguments)
            }

            let agent = try Harness.start(
                "flightlog-agent",
                [
                    "run", "--aggregator", "127.0.0.1:\(port)", "--key", scratch.file("agent.key"), "--state-dir",
                    scratch.file("state"), "--watch", scratch.file("logs/app.log"), "--hostname", "ws-full",
                    "--insecure-plaintext", "--flush-interval-ms", "50",
                ],
                log: scratch.file("agent.log")
            )
            defer { if agent.isRunning { Harness.killHard(agent) } }
            let app = LogWriter(path: scratch.file("logs/app.log"))
            var expected: [String] = []
            var chunk = 0
            func writeChunk() throws {
                // ~20 KB a chunk, so that a few chunks need pages the full file system no longer has.
                let lines = (0..<100).map { "full-disk chunk=\(chunk) n=\($0) \(String(repeating: "d", count: 160))" }
                try app.append(lines)
                expected += lines
                chunk += 1
            }
            func agentCounter(_ name: String) async throws -> Int {
                let status = try await Harness.runAsync(
                    "flightlog-agent",
                    ["status", "--state-dir", scratch.file("state")]
                ).out
                let line = status.split(separator: "\n").first { $0.contains(name) }
                return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
            }

            // Streaming normally.
            try writeChunk()
            try await Harness.eventuallyAsync(seconds: 30, "first batch acknowledged") {
                try await agentCounter("batches_acked") >= 1
            }
            // Fill the file system (dd stops at ENOSPC), then keep writing lines.
            _ = try await inNamespace(["/bin/dd", "if=/dev/zero", "of=\(dbdir)/filler", "bs=64k"])
            // A commit that failed is not acknowledged: the agent is told (`storageFailure`) and keeps the batch. Commits
            // that still fit in pages SQLite already holds (free pages, a write-ahead log it overwrites) succeed and
            // are acknowledged: they are durable. How many fit depends on the row size (rows of ~100 bytes since the
            // lines, times and source stay in the batch), so lines keep coming until a commit needs a page the file
            // system no longer has.
            try await Harness.eventuallyAsync(seconds: 90, "commit failures reported to the agent") {
                try writeChunk()
                try await Task.sleep(for: .milliseconds(100))
                return try await agentCounter("errors_received") >= 1
            }
            #expect(try await inNamespace(["/bin/ls", dbdir]).stdout.contains("flightlog.db"))

            // Space returns: ingestion resumes and the spool drains.
            #expect(try await inNamespace(["/bin/rm", "\(dbdir)/filler"]).status == 0)
            for _ in 0..<3 { try writeChunk() }
            try await Harness.eventuallyAsync(seconds: 120, "everything acknowledged") {
                let status = try await Harness.runAsync(
                    "flightlog-agent",
                    ["status", "--state-dir", scratch.file("state")]
                ).out
                return status.contains("spool: 0 batches")
            }
            agent.terminate()
            #expect(await agent.exited() == 0)
            kill(pid_t(servePID) ?? 0, SIGTERM)
            #expect(await namespace.exited() == 0)

            let db = scratch.file("out/flightlog.db")
            let index = IndexedLines(db: db, agent: "ws-full")
            IndexedLines.expectExactlyOnce(try await index.read(), expected)
            let verify = try await Harness.runAsync("flightlog", ["verify", "--db", db])
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
            let serveLog = (try? String(contentsOfFile: scratch.file("serve.log"), encoding: .utf8)) ?? ""
            #expect(serveLog.contains("Commit failed"), "\(serveLog.suffix(2000))")
        }

        /// The agent's spool on a 1 MiB tmpfs in its own mount namespace, the aggregator down: the spool fills the file
        /// system. The agent does not stop: it pauses reading, keeps its lines where they are, and once the aggregator is
        /// up its acknowledgements free space, reading resumes, and every line arrives once, with the pause as an event.
        static let agentScript = #"""
            set -eu
            agent="$1"; state="$2"; pidfile="$3"; shift 3
            mkdir -p "$state"
            mount -t tmpfs -o size=1m tmpfs "$state"
            "$agent" run --state-dir "$state" "$@" &
            echo $! >"$pidfile"
            wait $!
            """#

        @Test(.enabled(if: canRun)) func aFullSpoolFileSystemPausesTheAgentAndLosesNothing() async throws {
            let site = try await EndToEndSite(agent: "ws-spool")
            let (scratch, db, port) = (site.scratch, site.db, site.port)
            defer { scratch.cleanup() }
            try Self.agentScript.write(toFile: scratch.file("agent.sh"), atomically: true, encoding: .utf8)
            let app = LogWriter(path: scratch.file("app.log"))
            var expected: [String] = []
            // 12,000 lines of random letters: ~1.3 MB even compressed, more than the 1 MiB file system holds as batches.
            var random = SeededRandom(state: 0x5EED_F00D)
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
            for chunk in 0..<120 {
                let lines = (0..<100).map { n in
                    "spool chunk=\(chunk) n=\(n) " + String((0..<160).map { _ in alphabet[Int(random.next() % 36)] })
                }
                try app.append(lines)
                expected += lines
            }
            let namespace = try Subprocess(
                "/usr/bin/unshare",
                [
                    "-m", "/bin/bash", scratch.file("agent.sh"), try Executables.path("flightlog-agent"),
                    scratch.file("state"), scratch.file("agent.pid"), "--aggregator", "127.0.0.1:\(port)", "--key",
                    scratch.file("agent.key"), "--watch", scratch.file("app.log"), "--hostname", "ws-spool",
                    "--insecure-plaintext", "--flush-interval-ms", "50", "--spool-max-bytes", "16777216",
                ],
                stdout: scratch.file("agent.log"),
                stderr: scratch.file("agent.log")
            )
            defer {
                Self.killRecorded(scratch.file("agent.pid"))
                if namespace.isRunning { namespace.signal(SIGKILL) }
            }
            let log = { (try? String(contentsOfFile: scratch.file("agent.log"), encoding: .utf8)) ?? "" }
            try await Harness.eventuallyAsync(seconds: 60, "the spool's file system is full") {
                log().contains("Cannot write the spool")
            }
            try await Task.sleep(for: .seconds(1))
            #expect(namespace.isRunning, "the agent keeps running with a full disk: \(log().suffix(2000))")

            let server = try await site.startServer()
            defer { if server.isRunning { Harness.killHard(server) } }
            let index = site.index
            try await index.waitFor(count: expected.count, scratch: scratch)
            let agentPID = try String(contentsOfFile: scratch.file("agent.pid"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            kill(pid_t(agentPID) ?? 0, SIGTERM)
            #expect(await namespace.exited() == 0)
            server.terminate()
            await server.exited()
            IndexedLines.expectExactlyOnce(try await index.read(), expected)
            let own = try await SQLiteStore(readOnlyPath: db).lines(agentName: "ws-spool")
                .map { String(decoding: $0, as: UTF8.self) }
            #expect(own.contains { $0.hasPrefix("flightlog-agent could not write its spool for") })
            let verify = try await Harness.runAsync("flightlog", ["verify", "--db", db])
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")
        }
    }
}

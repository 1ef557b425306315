import FlightlogSystem
import FlightlogTestSupport
import Foundation
import Glibc

/// Runs the real `flightlog` and `flightlog-agent` executables built next to the test bundle.
enum Harness {
    /// Runs a command to completion, without holding one of the test process's few threads while it runs, and returns
    /// its exit code and output.
    @discardableResult
    static func runAsync(
        _ executable: String,
        _ arguments: [String]
    ) async throws -> (code: Int32, out: String, err: String) {
        let result = try await Subprocess.runAsync(try Executables.path(executable), arguments)
        return (result.status, result.stdout, result.stderr)
    }

    /// Starts a long-running command; its output is appended to `log`.
    static func start(_ executable: String, _ arguments: [String], log: String) throws -> Subprocess {
        try Subprocess(try Executables.path(executable), arguments, stdout: log, stderr: log)
    }

    /// Makes an agent key at `keyPath` and enrolls its public key in `db` as `name` (`flightlog-agent keygen`, then
    /// `flightlog enroll`, as an operator does); throws when either fails.
    static func enrollNewAgent(keyPath: String, db: String, name: String) async throws {
        try await Self.enrollNewAgent(keyPath: keyPath, store: ["--db", db], name: name)
    }

    /// ``enrollNewAgent(keyPath:db:name:)`` in the store `store` names (`--db FILE` or `--store URL`).
    static func enrollNewAgent(keyPath: String, store: [String], name: String) async throws {
        let keygen = try await Self.runAsync("flightlog-agent", ["keygen", "--key", keyPath])
        guard keygen.code == 0 else { throw HarnessError("keygen failed: \(keygen.err)") }
        let publicKey = keygen.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let enroll = try await Self.runAsync(
            "flightlog",
            ["enroll"] + store + ["--name", name, "--public-key", publicKey]
        )
        guard enroll.code == 0 else { throw HarnessError("enroll failed: \(enroll.err)") }
    }

    /// `flightlog-agent run` shipping over plaintext to 127.0.0.1:`port` with a 50 ms flush, its key and state
    /// in `scratch` (`agent.key`, `state` unless given), reading `sources` (`--watch GLOB`, `--journal-directory DIR`…),
    /// named `hostname`; output appended to `agent.log` (or `log`). `environment` replaces the test process's.
    static func startAgent(
        scratch: TempDirectory,
        port: Int,
        hostname: String,
        sources: [String],
        key: String = "agent.key",
        state: String = "state",
        log: String = "agent.log",
        extra: [String] = ["--insecure-plaintext"],
        environment: [String: String]? = nil
    ) throws -> Subprocess {
        try Subprocess(
            try Executables.path("flightlog-agent"),
            [
                "run", "--aggregator", "127.0.0.1:\(port)", "--key", scratch.file(key), "--state-dir",
                scratch.file(state), "--hostname", hostname, "--flush-interval-ms", "50",
            ] + sources + extra,
            environment: environment,
            stdout: scratch.file(log),
            stderr: scratch.file(log)
        )
    }

    /// ``startServe(db:port:log:)`` with `--log-level warning`, then waits until the port accepts connections.
    /// `environment` replaces the test process's.
    static func startQuietServeAndWaitForPort(
        store: [String],
        port: Int,
        log: String,
        environment: [String: String]? = nil
    ) async throws -> Subprocess {
        let server = try Subprocess(
            try Executables.path("flightlog"),
            ["serve"] + store + ["--listen", "127.0.0.1:\(port)", "--insecure-plaintext", "--log-level", "warning"],
            environment: environment,
            stdout: log,
            stderr: log
        )
        do {
            try await Self.eventuallyAsync(seconds: 60, "server listening") { Self.isListening(port) }
        } catch {
            Self.killHard(server)
            throw error
        }
        return server
    }

    /// Starts `flightlog serve --db db --listen 127.0.0.1:port --insecure-plaintext`; its output is appended to `log`.
    static func startServe(db: String, port: Int, log: String) throws -> Subprocess {
        try Self.start(
            "flightlog",
            ["serve", "--db", db, "--listen", "127.0.0.1:\(port)", "--insecure-plaintext"],
            log: log
        )
    }

    /// ``startServe(db:port:log:)`` on a free port, then waits (polling the status file, no thread held) until it
    /// says "running".
    static func startServeAndWait(db: String, log: String) async throws -> Subprocess {
        let server = try Self.startServe(db: db, port: try Self.freePort(), log: log)
        do {
            try await Self.eventuallyAsync(seconds: 60, "serve writes its status file", from: server, log: log) {
                Self.status(db: db)?.state == "running"
            }
        } catch {
            Self.killHard(server)
            throw error
        }
        return server
    }

    /// The state and pid in the status file of the database `db`; nil while it is missing or half-written.
    static func status(db: String) -> (state: String, pid: Int32)? {
        guard let data = FileManager.default.contents(atPath: db + ".status.json"),
            let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let state = document["state"] as? String,
            let pid = document["pid"] as? Int
        else { return nil }
        return (state, Int32(truncatingIfNeeded: pid))
    }

    /// A TCP port that was free a moment ago on 127.0.0.1.
    ///
    /// Chosen at random below Linux's ephemeral range (32768–60999), where the kernel never hands out a port on its
    /// own: a port the kernel chose for one test (bind to port 0, an outgoing connection) can then not be the one
    /// another test is about to listen on, which happened with the fault proxy's listener.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let candidate = Int.random(in: 20_000..<32_768)
            if let (fd, port) = LoopbackTCP.bind(port: candidate) {
                close(fd)
                return port
            }
        }
        throw HarnessError("no free port on 127.0.0.1 in 20000–32767")
    }

    /// Starts a long-running command with its open-file limit set first (`ulimit -n hard` sets both limits, then
    /// `ulimit -S -n soft`), as an operator's shell or service manager would; its output is appended to `log`.
    static func start(
        _ executable: String,
        _ arguments: [String],
        log: String,
        openFiles soft: Int,
        hard: Int? = nil
    ) throws -> Subprocess {
        let limits = (hard.map { "ulimit -n \($0) && " } ?? "") + "ulimit -S -n \(soft)"
        return try Subprocess(
            "/bin/sh",
            ["-c", limits + " && exec \"$0\" \"$@\"", try Executables.path(executable)] + arguments,
            stdout: log,
            stderr: log
        )
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func isListening(_ port: Int) -> Bool {
        guard let fd = self.connect(port) else { return false }
        close(fd)
        return true
    }

    /// A plain TCP connection to 127.0.0.1:`port` (its descriptor; the caller closes it), or nil.
    static func connect(_ port: Int) -> Int32? {
        LoopbackTCP.connect(port: port)
    }

    /// kill -9.
    static func killHard(_ process: Subprocess) {
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    /// ``eventuallyAsync(seconds:_:_:)`` for a condition only `process` can bring about: if it exits first, fails at
    /// once with its exit status and the end of its `log`, instead of waiting out the deadline with nothing to show.
    static func eventuallyAsync(
        seconds: Double,
        _ what: String,
        from process: Subprocess,
        log: String,
        _ condition: () async throws -> Bool
    ) async throws {
        try await Self.eventuallyAsync(seconds: seconds, what) {
            if try await condition() { return true }
            guard process.isRunning else {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw HarnessError(
                    "\(what): the process exited with status \(process.waitUntilExit()) first; its log ends: "
                        + String(output.suffix(2_000))
                )
            }
            return false
        }
    }

    /// Polls an async `condition` until it holds or `seconds` pass.
    static func eventuallyAsync(seconds: Double, _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try await !condition() {
            guard Date() < deadline else { throw HarnessError("\(what): not within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Polls `condition` until it holds or `seconds` pass.
    static func eventually(seconds: Double, _ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try !condition() {
            guard Date() < deadline else { throw HarnessError("\(what): not within \(seconds) s") }
            usleep(20_000)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Appends lines to a file with plain POSIX writes, as a logging daemon would.
struct LogWriter {
    let path: String

    func append(_ lines: [String]) throws {
        let fd = open(self.path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw HarnessError("cannot open \(self.path)") }
        defer { close(fd) }
        let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw HarnessError("short write to \(self.path)") }
    }

    /// Rotation by rename: the current file moves to `.1` (older ones shift) and a new, empty file takes its place.
    func rotate(keep: Int) throws {
        for index in stride(from: keep - 1, through: 1, by: -1) {
            rename(self.path + ".\(index)", self.path + ".\(index + 1)")
        }
        guard rename(self.path, self.path + ".1") == 0 else { throw HarnessError("rename failed") }
        let fd = open(self.path, O_WRONLY | O_CREAT, 0o644)
        close(fd)
    }
}

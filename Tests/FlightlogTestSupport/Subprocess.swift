import Foundation
import Glibc

/// A child process started with `posix_spawn`, for the tests that run the real executables.
///
/// Not Foundation's `Process`: on Linux with Swift 6.3.1 its `run()` crashes now and then (a 256-byte over-read of
/// a `dirent` in `findMaximumOpenFromProcSelfFD`, swift-corelibs-foundation PR #5472), which took the whole test
/// process down about once in a few full runs here. The child gets default signal dispositions and an empty signal
/// mask (an ignored SIGPIPE of the test process is not inherited), stdin from /dev/null, and its output appended to
/// files.
public final class Subprocess: @unchecked Sendable {
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 on), looked up at run time: Swift's Glibc module does
    /// not declare it. Nil on an older glibc, where children inherit the descriptors as before.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
        {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { return nil }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
            )
        }()

    public let processIdentifier: Int32
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `path` with `arguments`; standard output and error are appended to `stdout` and `stderr` (which may
    /// be the same file; /dev/null when nil). `environment` replaces the test process's when given.
    public init(
        _ path: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        stdout: String? = nil,
        stderr: String? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let append = O_WRONLY | O_CREAT | O_APPEND
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", append, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", append, 0o644)
        // Nothing else of the test process: tests run in parallel, and a child that inherited another test's sockets
        // kept those connections open after the test closed them, and started under a low open-file limit with its
        // descriptors already taken (a serve started with 64 could not open its database).
        Self.closeFrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + arguments).map { strdup($0) }
        let environmentPairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentPairs.map { strdup($0) }
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let result: Int32 = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                guard let argvBase = argvBuffer.baseAddress, let envpBase = envpBuffer.baseAddress else {
                    return EINVAL
                }
                return posix_spawn(&pid, path, &actions, &attributes, argvBase, envpBase)
            }
        }
        guard result == 0 else { throw SubprocessError("cannot start \(path): \(String(cString: strerror(result)))") }
        self.processIdentifier = pid
    }

    /// Runs `path` to completion; its exit status and what it wrote.
    public static func run(
        _ path: String,
        _ arguments: [String],
        environment: [String: String]? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try Output()
        defer { output.remove() }
        let process = try Subprocess(path, arguments, environment: environment, stdout: output.out, stderr: output.err)
        return (process.waitUntilExit(), output.read(output.out), output.read(output.err))
    }

    /// Where ``run(_:_:environment:)`` and ``runAsync(_:_:environment:)`` capture a child's output: a fresh folder
    /// holding `out` and `err`.
    private struct Output {
        let directory = NSTemporaryDirectory() + "flightlog-subprocess-" + UUID().uuidString
        var out: String { self.directory + "/out" }
        var err: String { self.directory + "/err" }

        init() throws {
            try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        }

        func read(_ path: String) -> String {
            String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }

        func remove() { try? FileManager.default.removeItem(atPath: self.directory) }
    }

    /// Waits for the child to end; its exit status, or 128 + the signal that ended it.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        if let status = self.lock.withLock({ self.status }) { return status }
        var raw: Int32 = 0
        while waitpid(self.processIdentifier, &raw, 0) < 0 && errno == EINTR {}
        return self.record(raw)
    }

    /// Waits for the child to end without holding a thread: for async tests, whose pool has one thread a core
    /// (blocking in `waitpid` there starves every other test of the process).
    @discardableResult
    public func exited() async -> Int32 {
        while self.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return self.waitUntilExit()
    }

    /// ``run(_:_:environment:)`` without holding a thread while the child runs.
    public static func runAsync(
        _ path: String,
        _ arguments: [String],
        environment: [String: String]? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try Output()
        defer { output.remove() }
        let process = try Subprocess(path, arguments, environment: environment, stdout: output.out, stderr: output.err)
        return (await process.exited(), output.read(output.out), output.read(output.err))
    }

    /// The exit status once the child has ended (see ``waitUntilExit()``).
    public var terminationStatus: Int32 { self.waitUntilExit() }

    /// Whether the child is still running (reaps it when it has ended).
    public var isRunning: Bool {
        if self.lock.withLock({ self.status }) != nil { return false }
        var raw: Int32 = 0
        let result = waitpid(self.processIdentifier, &raw, WNOHANG)
        if result == self.processIdentifier {
            _ = self.record(raw)
            return false
        }
        return result == 0
    }

    /// SIGTERM.
    public func terminate() { self.signal(SIGTERM) }

    public func signal(_ signal: Int32) {
        guard self.lock.withLock({ self.status }) == nil else { return }
        kill(self.processIdentifier, signal)
    }

    private func record(_ raw: Int32) -> Int32 {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
        let signal = raw & 0x7f
        let status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return self.lock.withLock {
            if self.status == nil { self.status = status }
            return self.status ?? status
        }
    }
}

public struct SubprocessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

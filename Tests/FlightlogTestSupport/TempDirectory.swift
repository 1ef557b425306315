import Foundation
import Glibc
import NIOConcurrencyHelpers

/// A fresh temporary directory for one test, removed by ``cleanup()`` or, at the latest, when the last reference to
/// it goes away (unless ``keep()`` was called).
public final class TempDirectory: Sendable {
    public let path: String
    private let kept = NIOLockedValueBox(false)

    public init() throws {
        let path = NSTemporaryDirectory() + "flightlog-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    /// A directory for a fixture built once and shared by every test of the process: nothing ever releases it, so
    /// it is removed when the process exits.
    public static func untilExit() throws -> TempDirectory {
        let directory = try TempDirectory()
        removedAtExit.register(directory.path)
        return directory
    }

    deinit { self.cleanup() }

    public func file(_ name: String) -> String { self.path + "/" + name }

    /// Removes the directory and everything in it, unless it is kept.
    public func cleanup() {
        guard !self.kept.withLockedValue({ $0 }) else { return }
        try? FileManager.default.removeItem(atPath: self.path)
    }

    /// Leaves the directory in place, for a look at what a test left behind.
    public func keep() { self.kept.withLockedValue { $0 = true } }
}

/// The directories ``TempDirectory/untilExit()`` handed out, removed by an `atexit` handler installed with the first.
private let removedAtExit = ExitRemovals()

private final class ExitRemovals: Sendable {
    private let paths = NIOLockedValueBox<(installed: Bool, paths: [String])>((false, []))

    func register(_ path: String) {
        let install = self.paths.withLockedValue { state in
            state.paths.append(path)
            let first = !state.installed
            state.installed = true
            return first
        }
        if install { atexit { removedAtExit.removeAll() } }
    }

    func removeAll() {
        for path in self.paths.withLockedValue({ $0.paths }) { try? FileManager.default.removeItem(atPath: path) }
    }
}

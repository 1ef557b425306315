import FlightlogTestSupport
import Foundation

/// Runs the built `flightlog` executable as a real process.
enum FlightlogCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { self.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// `.build/debug/flightlog`, next to the test bundle, or found from this file's path.
    static var executable: URL {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("flightlog"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("flightlog"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/flightlog"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
    }

    static func run(_ arguments: [String], user: String = "investigator-test") throws -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["USER"] = user
        environment["SUDO_USER"] = nil
        let result = try Subprocess.run(Self.executable.path, arguments, environment: environment)
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

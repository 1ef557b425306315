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

    /// Runs `flightlog ARGUMENTS` without holding one of the test process's few threads while the command runs: every
    /// suite shares one process whose cooperative pool has a thread per core, and a blocked thread starves the
    /// in-process servers of other suites.
    static func run(_ arguments: [String], user: String = "investigator-test") async throws -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["USER"] = user
        environment["SUDO_USER"] = nil
        let result = try await Subprocess.runAsync(
            try Executables.path("flightlog"),
            arguments,
            environment: environment
        )
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

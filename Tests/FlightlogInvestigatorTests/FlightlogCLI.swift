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
        let directory = NSTemporaryDirectory() + "flightlog-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outPath = directory + "/out"
        let errPath = directory + "/err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["USER"] = user
        environment["SUDO_USER"] = nil
        process.environment = environment
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
            stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        )
    }
}

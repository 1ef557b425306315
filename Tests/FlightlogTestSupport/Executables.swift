import Foundation

/// Where the built `flightlog` and `flightlog-agent` are, for the tests that run them as processes.
public enum Executables {
    /// The built executable `name`: next to the test binary (its directory or the one above, whichever SwiftPM
    /// used), or in `.build/debug` of this checkout.
    public static func path(_ name: String) throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        let candidates = [
            testBinary, testBinary.deletingLastPathComponent(), Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
            RepositoryFiles.root.appendingPathComponent(".build/debug"),
        ]
        for directory in candidates {
            let path = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestFailure("\(name) not found in \(candidates.map(\.path)); run `swift build` first")
    }
}

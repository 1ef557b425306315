import FlightlogTestSupport
import Foundation
import Testing

/// `flightlog serve` run as the operator runs it, with the flags mistyped or missing: each gets a message that names
/// what is wrong, exit code 64, and no database is created.
@Suite("flightlog serve: usage errors")
struct ServeCommandLineTests {
    @Test func aMistypedPlaintextFlagIsNamed() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let result = try Harness.run("flightlog", ["serve", "--db", db, "--insecure-plaintex"])
        #expect(result.code == 64)
        // Not "pass --insecure-plaintext", which the operator believes they did.
        #expect(result.err.contains("Unknown option '--insecure-plaintex'"), "\(result.err)")
        #expect(result.err.contains("Did you mean '--insecure-plaintext'?"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func withoutThePlaintextFlagServeExplainsWhy() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let result = try Harness.run("flightlog", ["serve", "--db", db, "--listen", "127.0.0.1:0"])
        #expect(result.code == 64)
        #expect(result.err.contains("TLS is not available in this release yet"), "\(result.err)")
        #expect(result.err.contains("pass --insecure-plaintext"), "\(result.err)")
        #expect(result.err.contains("flightlog serve --help"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func aBadValueIsNamed() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let db = scratch.file("flightlog.db")
        let result = try Harness.run("flightlog", ["serve", "--db", db, "--insecure-plaintext", "--window", "0"])
        #expect(result.code == 64)
        #expect(result.err.contains("--window must be between 1 and 1024"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }
}

import FlightlogTestSupport
import Foundation
import Testing

/// `flightlog simulate` as a user runs it (issue 27): the same seed and start give the same files, byte for byte; a
/// paced run with the incident really rewrites the victim's auth.log at the cover-up; bad flags are named.
@Suite struct SimulateCommandTests {
    static func simulate(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await Subprocess.runAsync(try Executables.path("flightlog"), ["simulate"] + arguments)
    }

    /// Every file under `folder`, by relative path, with its bytes.
    static func files(_ folder: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = folder + "/" + path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[path] = FileManager.default.contents(atPath: full)
            }
        }
        return files
    }

    @Test func theSameSeedAndStartGiveTheSameFilesByteForByte() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let common = ["--hosts", "4", "--incident", "--start", "2026-12-07T07:00Z", "--duration", "8h"]
        let first = try await Self.simulate(common + ["--out", dir.file("a")])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("cover_up"), "\(first.stdout)")
        _ = try await Self.simulate(common + ["--out", dir.file("b")])
        _ = try await Self.simulate(common + ["--out", dir.file("c"), "--seed", "2"])
        let a = try Self.files(dir.file("a"))
        #expect(a.count == 4 * 3 + 1, "\(a.keys.sorted())")
        #expect(a["cc-ws-004/crm.jsonl"].map(\.count) ?? 0 > 10_000)
        #expect(a == (try Self.files(dir.file("b"))))
        #expect(a != (try Self.files(dir.file("c"))))
        let incident = try #require(a["incident.json"].map { String(decoding: $0, as: UTF8.self) })
        #expect(incident.contains("\"kind\":\"bulk_export\""))
    }

    /// An hour at 1,200 times real speed (3 s): the lines arrive as the clock reaches them, and at the cover-up the
    /// victim's auth.log is replaced by a copy without the attacker's address (a new file, as `sed -i` leaves).
    @Test func aPacedRunCoversUpInTheVictimsAuthLog() async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let result = try await Self.simulate([
            "--out", dir.file("sim"), "--hosts", "2", "--incident", "--start", "2026-12-07T09:00Z", "--duration", "1h",
            "--pace", "1200",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let incident = try String(contentsOfFile: dir.file("sim/incident.json"), encoding: .utf8)
        let address = try #require(
            incident.split(separator: "\"").drop { $0 != "attacker_address" }.dropFirst(2).first.map(String.init)
        )
        let auth = try String(contentsOfFile: dir.file("sim/cc-ws-002/auth.log"), encoding: .utf8)
        #expect(!auth.contains("Accepted password"), "the attacker's login is gone: \(auth.suffix(800))")
        #expect(auth.contains("COMMAND=/usr/bin/systemctl stop flightlog-agent"))
        #expect(auth.split(separator: "\n").filter { $0.contains(address) }.allSatisfy { $0.contains("sed -i") })
        let crm = try String(contentsOfFile: dir.file("sim/cc-ws-002/crm.jsonl"), encoding: .utf8)
        #expect(crm.contains("\"event\":\"report.export\""), "the CRM's log is untouched")
    }

    @Test(arguments: [
        (["--hosts", "0"], "--hosts must be between 1 and 10000"),
        (["--working-hours", "18-8"], "--working-hours takes FROM-TO"),
        (["--duration", "banana"], "--duration"),
        (["--start", "yesterday-ish"], "--start"),
        (["--pace", "0"], "--pace must be above 0"),
    ])
    func aBadFlagIsNamed(_ flags: [String], _ message: String) async throws {
        let dir = try TempDirectory()
        defer { dir.cleanup() }
        let result = try await Self.simulate(["--out", dir.file("sim")] + flags)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("sim")), "nothing written")
    }
}

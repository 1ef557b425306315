import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@Suite("flightlog timeline")
struct TimelineCommandTests {
    @Test func showsTheIncidentInOrderWithGapSilenceAndSkew() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli(
            "timeline",
            "--since",
            "2026-11-24T09:00Z",
            "--until",
            "2026-11-24T11:00Z",
            "--silence",
            "30m"
        )
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.lines
        func position(_ text: String) -> Int? { lines.firstIndex { $0.contains(text) } }
        let steps = [
            "password reset for user=mchen", "203.0.113.77 device=new", "oauth_consent", "bulk_export", "anydesk",
        ]
        let found = steps.compactMap(position)
        #expect(found.count == steps.count, "\(result.stdout)")
        #expect(found == found.sorted())
        // Host, agent, batch and the (honest) verification state on each event line.
        let reset = try #require(position("password reset"))
        #expect(lines[reset].contains("cc-ws-602"))
        #expect(lines[reset].contains("e1/s2"))
        #expect(lines[reset].contains("signed-stored"))
        // cc-ws-611's batch 2 never arrived: a gap, and 09:20 → 10:47 without events.
        let gap = try #require(position("GAP cc-ws-611"))
        #expect(lines[gap].contains("batch 2 is missing"))
        let silence = try #require(position("SILENT cc-ws-611"))
        #expect(lines[silence].contains("1h27m"))
        let anydesk = try #require(position("anydesk"))
        #expect(gap < anydesk)
        // cc-ws-602 shipped with its clock 2.5 s ahead.
        let skew = try #require(lines.first { $0.hasPrefix("# clock: cc-ws-602") })
        #expect(skew.contains("ahead of"))
    }

    @Test func jsonlTypesEveryLine() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli(
            "timeline",
            "--host",
            "cc-ws-611",
            "--since",
            "2026-11-24",
            "--until",
            "2026-11-25",
            "--format",
            "jsonl"
        )
        let types = try result.lines.map { try jsonObject($0)["type"] as? String ?? "?" }
        #expect(types.filter { $0 == "event" }.count == 4)
        #expect(types.contains("gap"))
        #expect(types.contains("silence"))
        #expect(types.first == "skew")
        let event = try #require(try result.lines.map(jsonObject).first { $0["type"] as? String == "event" })
        #expect(event["verification"] as? String == "signed-stored")
    }

    @Test func nothingMatchedExitsOne() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli("timeline", "--user", "nobody")
        #expect(result.status == 1)
    }
}

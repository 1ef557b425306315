import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@Suite("flightlog stats")
struct StatsCommandTests {
    @Test func countsAndHighlightsTheUnusual() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli(
            "stats",
            "--by",
            "user",
            "--bucket",
            "1h",
            "--since",
            "2026-11-24",
            "--format",
            "jsonl"
        )
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try result.lines.map(jsonObject)
        let buckets = objects.filter { $0["type"] as? String == "bucket" }
        let mchen = buckets.filter { $0["key"] as? String == "mchen" }.compactMap { $0["count"] as? Int }
        #expect(mchen.reduce(0, +) == 5)
        let notes = objects.compactMap { object -> String? in
            guard let type = object["type"] as? String, type != "bucket" else { return nil }
            return type + " " + (object["detail"] as? String ?? "")
        }
        #expect(notes.contains("new_ip_for_user user mchen from source IP 203.0.113.77 for the first time"))
        #expect(!notes.contains { $0.contains("10.20.30.40") }, "mchen's usual IP is not new: \(notes)")
        #expect(notes.contains("new_user_on_host user tpatel on host cc-ws-611 for the first time"))
        #expect(notes.contains { $0.hasPrefix("off_hours user tpatel") }, "22:30 is outside 07-19: \(notes)")
        #expect(!notes.contains { $0.hasPrefix("off_hours user mchen") })
    }

    @Test func workHoursAreConfigurable() async throws {
        let fixture = try await SharedIncident.shared.get()
        let result = try await fixture.cli(
            "stats",
            "--by",
            "host",
            "--work-hours",
            "11-23",
            "--since",
            "2026-11-24",
            "--format",
            "jsonl"
        )
        let offHours = try result.lines.map(jsonObject).filter { $0["type"] as? String == "off_hours" }
        #expect(offHours.count == 3, "09:00, 10:00 on both hosts except … : \(result.stdout)")
    }

    /// `--by` takes the ECS name or the short alias, and says the ECS name; an unknown key is refused (exit 2).
    @Test func byTakesECSNamesAndTheirAliases() async throws {
        let fixture = try await SharedIncident.shared.get()
        var outputs: [String] = []
        for name in ["source.ip", "ip", "SOURCE.IP"] {
            let result = try await fixture.cli("stats", "--by", name, "--since", "2026-11-24", "--format", "jsonl")
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let buckets = try result.lines.map(jsonObject).filter { $0["type"] as? String == "bucket" }
            #expect(buckets.allSatisfy { $0["by"] as? String == "source.ip" }, "\(name): \(result.stdout)")
            #expect(buckets.contains { $0["key"] as? String == "203.0.113.77" }, "\(name): \(result.stdout)")
            outputs.append(result.stdout)
        }
        #expect(Set(outputs).count == 1, "the same counts under every name")
        let table = try await fixture.cli("stats", "--by", "process.name", "--since", "2026-11-24")
        #expect(table.stdout.hasPrefix("PROCESS.NAME"), "\(table.stdout)")
        let wrong = try await fixture.cli("stats", "--by", "user.nam")
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("user.name"), "the choices are named: \(wrong.stderr)")
    }
}

import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

/// `flightlog hunt` with Sigma correlation rules: hits printed with their events, bad correlations reported per rule.
/// (What the correlations find: `SigmaCorrelationTests` in the store's tests.)
@Suite("flightlog hunt with Sigma correlation rules")
struct HuntCorrelationCommandTests {
    @Test func huntPrintsHitsWithTheirEventsAndReportsBadCorrelations() async throws {
        let fixture = try await SharedIncident.shared.get()
        let directory = try TempDirectory()
        defer { directory.cleanup() }
        let files = [
            "a.yml": "title: good\ncorrelation:\n  type: temporal_ordered\n  rules: [desk, login]\n  group-by: [user]\n"
                + "  timespan: 1h\n" + IncidentRules.correlationParts,
            "b.yml": "title: unknown rule\ncorrelation:\n  type: event_count\n  rules: [nowhere]\n  timespan: 1h\n"
                + "  condition:\n    gte: 1\n",
            "c.yml": "title: loop\nname: loop\ncorrelation:\n  type: event_count\n  rules: [loop]\n  timespan: 1h\n"
                + "  condition:\n    gte: 1\n",
            "d.yml": "title: odd type\ncorrelation:\n  type: value_sum\n  rules: [desk]\n  timespan: 1h\n",
            "e.yml": "title: no span\ncorrelation:\n  type: temporal\n  rules: [desk, login]\n  timespan: soon\n",
        ]
        for (name, text) in files {
            try text.write(toFile: directory.file(name), atomically: true, encoding: .utf8)
        }
        let result = try await fixture.cli("hunt", "--rules", directory.path, "--format", "jsonl")
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try result.lines.map(jsonObject)
        let rules = objects.filter { $0["type"] as? String == "rule" }
        // desk and login are the good correlation's parts: not run on their own; consent and export are nobody's.
        #expect(
            rules.compactMap { $0["rule"] as? String }.sorted() == [
                "consent", "export", "good", "loop", "no span", "odd type", "unknown rule",
            ]
        )
        func notes(_ title: String) -> [String] {
            rules.first { $0["rule"] as? String == title }?["notes"] as? [String] ?? []
        }
        #expect(notes("unknown rule").contains { $0.contains("'nowhere'") })
        #expect(notes("loop").contains { $0.contains("itself") })
        #expect(notes("odd type").contains { $0.contains("value_sum") })
        #expect(notes("no span").contains { $0.contains("timespan") })
        #expect(
            rules.filter { $0["run"] as? Bool == true }.compactMap { $0["rule"] as? String } == [
                "good", "consent", "export",
            ]
        )
        let hits = objects.filter { $0["type"] as? String == "hit" }
        #expect(hits.count == 1)
        #expect(
            hits.first?["events"] as? [Int]
                == objects.filter { $0["hit"] as? Int == 1 && $0["type"] as? String == "match" }
                .compactMap { ($0["event"] as? [String: Any])?["id"] as? Int }
        )
        let table = try await fixture.cli("hunt", "--rules", directory.path)
        #expect(table.stdout.contains("hit 1: user=mchen, 3 matches, 2026-11-24T10:02:00"), "\(table.stdout)")
        #expect(table.stdout.contains("1 hit\n"))
        // generate: true runs the parts on their own as well.
        try (files["a.yml"] ?? "").replacingOccurrences(of: "title: good\n", with: "title: good\ngenerate: true\n")
            .write(toFile: directory.file("a.yml"), atomically: true, encoding: .utf8)
        let generated = try await fixture.cli("hunt", "--rules", directory.path, "--format", "jsonl")
        #expect(try generated.lines.map(jsonObject).filter { $0["type"] as? String == "rule" }.count == 9)
    }
}

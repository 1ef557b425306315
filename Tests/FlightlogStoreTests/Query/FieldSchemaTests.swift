import FlightlogEvidence
import FlightlogSigma
import FlightlogStoreTestSupport
import FlightlogTestSupport
import Foundation
import Testing

@testable import FlightlogStore

/// Elastic Common Schema names answer to the agent's field names wherever a field is named.
@Suite("ECS field names")
struct FieldSchemaTests {
    @Test func theSchemaPageListsEveryName() throws {
        let page = String(
            decoding: try Data(contentsOf: RepositoryFiles.root.appendingPathComponent("docs/SCHEMA.md")),
            as: UTF8.self
        )
        for entry in FieldSchema.entries {
            #expect(page.contains("| `\(entry.ecs)` | `\(entry.flightlog)` |"), "docs/SCHEMA.md lacks \(entry.ecs)")
        }
        #expect(Set(FieldSchema.entries.map(\.ecs)).count == FieldSchema.entries.count)
    }

    @Test func ecsNamesWorkInWhereAndInRules() async throws {
        let fixture = try await SharedIncident.shared.get()
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        func count(_ condition: String) throws -> Int {
            var query = EventQuery()
            query.conditions = [try FieldCondition(parsing: condition)]
            return try store.countEvents(query)
        }
        #expect(try count("event.action=login") == (try count("action=login")))
        #expect(try count("event.action=login") > 0)
        func hits(_ detection: String) throws -> Int {
            let rule = SigmaRule(file: "t.yml", yaml: "title: t\ndetection:\n" + detection)
            var query = EventQuery()
            query.rule = SigmaSQLCompiler.compile(try #require(rule.detection, "\(rule.unsupported)"))
            return try store.countEvents(query)
        }
        let ecs = try hits("  sel:\n    user.name: mchen\n    source.ip|cidr: 203.0.113.0/24\n  condition: sel\n")
        let own = try hits("  sel:\n    user: mchen\n    src_ip|cidr: 203.0.113.0/24\n  condition: sel\n")
        #expect(ecs == own && ecs > 0)
        #expect(try hits("  sel:\n    event.action: login\n  condition: sel\n") == (try count("action=login")))
    }
}

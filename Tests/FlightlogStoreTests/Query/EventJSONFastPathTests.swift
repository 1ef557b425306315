import FlightlogEvidence
import FlightlogStoreTestSupport
import Foundation
import Testing

@testable import FlightlogStore

/// The export's fast path (each event's JSON written straight from its row) must give exactly what the general path
/// (the row read into a record, the record encoded) gives.
@Suite("JSON from the row agrees with the record's JSON")
struct EventJSONFastPathTests {
    @Test(arguments: [nil, "Europe/Paris"] as [String?])
    func jsonFromTheStatementIsTheRecordsJSON(zone: String?) async throws {
        let fixture = try await SharedIncident.shared.get()
        let store = try SQLiteStore(readOnlyPath: fixture.database)
        let times = TimeFormatter(zone: zone.flatMap(TimeZone.init(identifier:)))
        for style in [EventJSON.Style.plain, .timesketch(clock: .event), .timesketch(clock: .received)] {
            var expected: [[UInt8]] = []
            try store.forEachEvent(EventQuery()) { event in
                expected.append(EventJSON.encode(event, style: style, times: times))
                return true
            }
            var actual: [[UInt8]] = []
            try store.forEachEventJSON(EventQuery(), style: style, times: times) { object in
                actual.append(object)
                return true
            }
            #expect(expected.count > 10)
            #expect(actual.count == expected.count)
            for (got, want) in zip(actual, expected) {
                #expect(String(decoding: got, as: UTF8.self) == String(decoding: want, as: UTF8.self))
            }
        }
    }
}

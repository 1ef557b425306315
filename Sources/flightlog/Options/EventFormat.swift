import ArgumentParser
import FlightlogEvidence
import FlightlogStore
import FlightlogWire
import Foundation

/// Output formats for events (`query --format`).
enum EventFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case jsonl
    case csv
    case timesketch

    /// The JSON flavour written straight from the store, or nil for the formats the printer lays out.
    func jsonStyle(clock: EventQuery.Clock) -> EventJSON.Style? {
        switch self {
        case .jsonl: .plain
        case .timesketch: .timesketch(clock: clock)
        case .table, .csv: nil
        }
    }
}

import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// The SQL an investigator's command runs, for `--explain`.
public struct QueryExplanation: Sendable, Equatable {
    public var sql: String
    /// The bound parameters, in order, as text.
    public var arguments: [String]
    /// SQLite's `EXPLAIN QUERY PLAN`, one step per line.
    public var plan: [String]
}

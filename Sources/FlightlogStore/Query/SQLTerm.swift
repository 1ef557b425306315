import FlightlogEvidence
import GRDB

/// A piece of SQL over `events e` with its parameters, built in this module.
struct SQLTerm: Sendable, Equatable {
    var sql: String
    var arguments: [DatabaseValue]
}

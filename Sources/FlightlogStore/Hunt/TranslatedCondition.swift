import FlightlogEvidence
import GRDB

/// SQL over `events e` produced by a translator in this module, with its string parameters.
public struct TranslatedCondition: Sendable, Equatable {
    let sql: String
    let arguments: [String]
    /// Full-text searches that find every matching event: candidates come from the indexes instead of a scan.
    let candidates: CandidateSet?

    init(sql: String, arguments: [String], candidates: CandidateSet? = nil) {
        self.sql = sql
        self.arguments = arguments
        self.candidates = candidates
    }

    /// The same condition with no full-text side: what it finds by scanning every event (for tests).
    public var scanning: TranslatedCondition { TranslatedCondition(sql: self.sql, arguments: self.arguments) }

    /// The full-text searches used to find candidates, if any, in words (`line:` for the `line` column of
    /// `events_fts`, `attrs:` for its `program` and `fields` columns).
    public var fullTextExpression: String? { self.candidates?.description }
}

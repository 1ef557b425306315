import FlightlogEvidence
public import FlightlogSigma
import GRDB

/// SQL over `events e` produced by a translator in this module, with its string parameters.
public struct TranslatedCondition: Sendable, Equatable {
    let sql: String
    let arguments: [String]
    /// Full-text searches that find every matching event: candidates come from the indexes instead of a scan.
    let candidates: CandidateSet?
    /// The detection it was compiled from, which a store without SQLite's SQL evaluates in Swift
    /// (``SigmaEvaluator``) to the same answers.
    public let expression: SigmaExpression

    init(sql: String, arguments: [String], candidates: CandidateSet? = nil, expression: SigmaExpression) {
        self.sql = sql
        self.arguments = arguments
        self.candidates = candidates
        self.expression = expression
    }

    /// The same condition with no full-text side: what it finds by scanning every event (for tests).
    public var scanning: TranslatedCondition {
        TranslatedCondition(sql: self.sql, arguments: self.arguments, expression: self.expression)
    }

    /// The full-text searches used to find candidates, if any, in words (`line:` for the `line` column of
    /// `events_fts`, `attrs:` for its `program` and `fields` columns).
    public var fullTextExpression: String? { self.candidates?.description }
}

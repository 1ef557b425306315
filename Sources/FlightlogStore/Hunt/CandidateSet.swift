import FlightlogEvidence
import GRDB

/// Full-text searches whose results hold every event a condition can match (and usually more): the exact
/// condition then runs on those only.
indirect enum CandidateSet: Sendable, Equatable, CustomStringConvertible {
    /// An FTS5 expression over the raw line, the `line` column of `events_fts`.
    case line(String)
    /// An FTS5 expression over the `program` and `fields` columns of `events_fts` (see ``FieldsDocument``), each
    /// phrase with its column filter.
    case attrs(String)
    case all([CandidateSet])
    case any([CandidateSet])

    var description: String {
        switch self {
        case .line(let expression): "line: " + expression
        case .attrs(let expression): "attrs: " + expression
        case .all(let sets): "(" + sets.map(\.description).joined(separator: " AND ") + ")"
        case .any(let sets): "(" + sets.map(\.description).joined(separator: " OR ") + ")"
        }
    }

    /// A `SELECT id …` of the candidates' row ids, appending its parameters. Searches of one kind under one
    /// AND or OR become one FTS5 expression (FTS5 merges its own posting lists); the rest combine with INTERSECT
    /// or UNION.
    func sql(_ arguments: inout [DatabaseValue]) -> String {
        switch self {
        case .line(let expression):
            arguments.append(expression.databaseValue)
            return "SELECT id FROM \(FullTextLayout.view) WHERE line MATCH ?"
        case .attrs(let expression):
            // The expression names its columns (`{program} : …`, `{fields} : …`).
            arguments.append(expression.databaseValue)
            return "SELECT id FROM \(FullTextLayout.view) WHERE events_fts MATCH ?"
        case .all(let sets): return Self.combine(sets, word: "AND", compound: "INTERSECT", &arguments)
        case .any(let sets): return Self.combine(sets, word: "OR", compound: "UNION", &arguments)
        }
    }

    private static func combine(
        _ sets: [CandidateSet],
        word: String,
        compound: String,
        _ arguments: inout [DatabaseValue]
    ) -> String {
        var lines: [String] = []
        var attrs: [String] = []
        var others: [CandidateSet] = []
        for set in sets {
            switch set {
            case .line(let expression): lines.append(expression)
            case .attrs(let expression): attrs.append(expression)
            default: others.append(set)
            }
        }
        func merged(_ expressions: [String]) -> String {
            expressions.count == 1
                ? expressions[0] : expressions.map { "(" + $0 + ")" }.joined(separator: " " + word + " ")
        }
        var pieces: [CandidateSet] = []
        if !lines.isEmpty { pieces.append(.line(merged(lines))) }
        if !attrs.isEmpty { pieces.append(.attrs(merged(attrs))) }
        pieces += others
        if pieces.count == 1 { return pieces[0].sql(&arguments) }
        return pieces.map { "SELECT id FROM (" + $0.sql(&arguments) + ")" }.joined(separator: " " + compound + " ")
    }
}

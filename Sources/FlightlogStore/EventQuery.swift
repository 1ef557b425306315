public import FlightlogEvidence
import GRDB

/// What an investigator asks for: a filter over stored events, shared by query, timeline, stats, hunt and export.
///
/// Every value is bound as an SQL parameter; nothing typed by the user is spliced into SQL text.
public struct EventQuery: Sendable, Equatable {
    /// Which of an event's two times filters and orders.
    public typealias Clock = EventClock

    /// Ascending (oldest first) or descending.
    public enum Order: String, Sendable, CaseIterable {
        case asc
        case desc
    }

    /// Inclusive lower bound, ns since the Unix epoch.
    public var sinceNanos: Int64?
    /// Exclusive upper bound, ns since the Unix epoch.
    public var untilNanos: Int64?
    public var host: String?
    /// Agent name.
    public var agent: String?
    public var user: String?
    public var program: String?
    public var source: String?
    /// Source IP (`src_ip`).
    public var ip: String?
    /// FTS5 expression over the raw line.
    public var match: String?
    /// Conditions on parsed fields, all of which must hold.
    public var conditions: [FieldCondition] = []
    /// Events within `aroundWindowNanos` of this event's time.
    public var aroundEventID: Int64?
    public var aroundWindowNanos: Int64 = 600_000_000_000
    public var limit: Int?
    public var order: Order = .asc
    public var clock: Clock = .event
    /// A translated detection rule (see ``SigmaRule``); only this module can build one.
    public var rule: TranslatedCondition?
    /// Only these events (the events behind a correlation hit, say).
    public var eventIDs: [Int64]?
    /// An extra SQL term built in this module (a correlation narrowing a later rule to the groups and times an
    /// earlier one found).
    var restriction: SQLTerm?

    public init() {}
}

/// A piece of SQL over `events e` with its parameters, built in this module.
struct SQLTerm: Sendable, Equatable {
    var sql: String
    var arguments: [DatabaseValue]
}

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

/// Full-text searches whose results hold every event a condition can match (and usually more): the exact
/// condition then runs on those only.
indirect enum CandidateSet: Sendable, Equatable, CustomStringConvertible {
    /// An FTS5 expression over the raw line, the `line` column of `events_fts`.
    case line(String)
    /// An FTS5 expression over the `program` and `fields` columns of `events_fts` (see ``AttributeText``), each
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

/// `field=value`, `field!=value` or `field~regex` on an event's parsed fields.
public struct FieldCondition: Sendable, Equatable {
    public enum Operator: String, Sendable {
        case equals = "="
        case notEquals = "!="
        case matches = "~"
    }

    public var field: String
    public var op: Operator
    public var value: String

    public init(field: String, op: Operator, value: String) {
        self.field = field
        self.op = op
        self.value = value
    }

    /// Parses `field=value`, `field!=value` or `field~regex`; the first operator wins, so values may contain `=`.
    public init(parsing text: String) throws(QueryError) {
        guard let index = text.firstIndex(where: { $0 == "=" || $0 == "~" || $0 == "!" }) else {
            throw QueryError.badCondition(text)
        }
        let field = String(text[..<index])
        let rest = text[index...]
        if rest.hasPrefix("!=") {
            self.init(field: field, op: .notEquals, value: String(rest.dropFirst(2)))
        } else if rest.hasPrefix("=") {
            self.init(field: field, op: .equals, value: String(rest.dropFirst()))
        } else if rest.hasPrefix("~") {
            self.init(field: field, op: .matches, value: String(rest.dropFirst()))
        } else {
            throw QueryError.badCondition(text)
        }
        guard Self.isValidFieldName(field) else { throw QueryError.badCondition(text) }
    }

    /// Field names are restricted so that they can sit inside a JSON path without quoting problems.
    public static func isValidFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255
            && name.unicodeScalars.allSatisfy {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.@:".unicodeScalars.contains($0)
            }
    }

    /// The JSON path of the field inside `events.fields`.
    public var jsonPath: String { Self.jsonPath(self.field) }

    static func jsonPath(_ field: String) -> String { "$.\"" + field + "\"" }
}

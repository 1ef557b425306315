/// What an investigator asks for: a filter over stored events, shared by query, timeline, stats, hunt and export.
///
/// Every value is bound as an SQL parameter; nothing typed by the user is spliced into SQL text.
public struct EventQuery: Sendable, Equatable {
    /// Which of an event's two times filters and orders.
    public enum Clock: String, Sendable, CaseIterable {
        /// The event's own time (parsed from the line, or when the agent read it).
        case event
        /// When the aggregator received the batch holding it.
        case received
    }

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

    public init() {}
}

/// SQL over `events e` produced by a translator in this module, with its string parameters.
public struct TranslatedCondition: Sendable, Equatable {
    let sql: String
    let arguments: [String]
    /// An FTS5 expression every matching event also matches: candidates come from `events_fts` instead of a scan.
    let fullText: String?

    init(sql: String, arguments: [String], fullText: String? = nil) {
        self.sql = sql
        self.arguments = arguments
        self.fullText = fullText
    }

    /// The same condition with no full-text side: what it finds by scanning every event (for tests).
    public var scanning: TranslatedCondition { TranslatedCondition(sql: self.sql, arguments: self.arguments) }

    /// The FTS5 expression used to find candidates, if any.
    public var fullTextExpression: String? { self.fullText }
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

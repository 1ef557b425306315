public import FlightlogEvidence
public import FlightlogSigma
public import FlightlogWire
import Foundation
import GRDB

/// An event as ``SigmaEvaluator`` reads it: the line, the indexed columns under every name a rule may give them
/// (``EventColumn``), and each parsed field (any of a repeated key's values).
public struct EventRecordValues: SigmaEventValues {
    public let record: EventRecord
    public let line: String
    /// The parsed fields, in order, repeated keys included.
    public let fields: [Event.Field]

    public init(_ record: EventRecord) {
        self.record = record
        self.line = String(decoding: record.line, as: UTF8.self)
        self.fields = FieldsJSON.decode(record.fieldsJSON) ?? []
    }

    public func values(of field: String) -> [String]? {
        switch EventColumn.named(field) {
        case .line: return [self.line]
        case .host: return [self.record.host]
        case .source: return [self.record.source]
        case .user: return self.record.user.map { [$0] }
        case .sourceIP: return self.record.sourceIP.map { [$0] }
        case .program: return self.record.program.map { [$0] }
        case .severity: return self.record.severity.map { [$0] }
        case nil:
            let key = FieldSchema.flightlogName(field)
            let found = self.fields.filter { $0.key == key }.map(\.value)
            return found.isEmpty ? nil : found
        }
    }

    /// The values of the parsed field `key` exactly as stored (a `--where` condition's lookup).
    func storedValues(_ key: String) -> [String] { self.fields.filter { $0.key == key }.map(\.value) }
}

/// What of an ``EventQuery`` is decided in Swift rather than in a store's SQL: `--match` (through SQLite's own FTS5
/// parser and `unicode61` tokenizer, on the candidates' lines, so that an expression means what it means on the
/// SQLite store), `--where` conditions (any value of a repeated key; `!=` when none equals; `~` an
/// NSRegularExpression found anywhere, as SQLite's REGEXP here) and a Sigma rule (``SigmaEvaluator``).
///
/// The PostgreSQL store selects by its columns and time in SQL and passes the rows through this; the SQLite store's
/// SQL gives the same answers, which `StoreDifferentialTests` holds it to.
public struct EventRecordFilter {
    private let conditions: [(FieldCondition, NSRegularExpression?)]
    private let rule: SigmaExpression?
    private let matcher: LineMatcher?

    /// Throws ``StoreError/badRegex(pattern:reason:)`` or ``StoreError/badMatch(expression:reason:)`` for a pattern
    /// or an expression that does not compile.
    public init(_ query: EventQuery) throws(StoreError) {
        var conditions: [(FieldCondition, NSRegularExpression?)] = []
        for condition in query.conditions {
            if condition.op == .matches {
                try RegexFunction.validate(condition.value)
                conditions.append((condition, try? NSRegularExpression(pattern: condition.value)))
            } else {
                conditions.append((condition, nil))
            }
        }
        self.conditions = conditions
        self.rule = query.rule?.expression
        self.matcher = try query.match.map { expression throws(StoreError) in try LineMatcher(expression) }
    }

    /// Whether every event passes (the query's columns and times decide alone).
    public var passesEverything: Bool { self.conditions.isEmpty && self.rule == nil && self.matcher == nil }

    /// The events of `events` that pass, in their order.
    public func select(_ events: [EventRecord]) throws(StoreError) -> [EventRecord] {
        guard !self.passesEverything else { return events }
        var passing = events.filter { event in
            guard !self.conditions.isEmpty || self.rule != nil else { return true }
            let values = EventRecordValues(event)
            return self.passes(values)
        }
        if let matcher = self.matcher { passing = try matcher.select(passing) }
        return passing
    }

    private func passes(_ values: EventRecordValues) -> Bool {
        for (condition, regex) in self.conditions {
            let stored = values.storedValues(condition.field)
            switch condition.op {
            case .equals: guard stored.contains(condition.value) else { return false }
            case .notEquals: guard !stored.contains(condition.value) else { return false }
            case .matches:
                guard let regex,
                    stored.contains(where: { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
                    )
                else { return false }
            }
        }
        if let rule = self.rule, !SigmaEvaluator.matches(rule, values) { return false }
        return true
    }
}

/// An FTS5 expression applied to events' lines in an in-memory SQLite table shaped as the store's full-text index
/// (`line`, `program`, `fields`, `unicode61`), with the line as the indexer decodes it: the same parser, tokenizer and
/// meaning as `--match` on the SQLite store, for events a store selected some other way.
final class LineMatcher {
    private let expression: String
    private let queue: DatabaseQueue

    init(_ expression: String) throws(StoreError) {
        self.expression = expression
        do {
            self.queue = try DatabaseQueue()
            try self.queue.write { db in
                try db.execute(sql: "CREATE VIRTUAL TABLE m USING fts5(line, program, fields, tokenize='unicode61')")
            }
        } catch {
            throw StoreError.database("cannot prepare the full-text matcher: \(error)")
        }
        // An expression FTS5 cannot parse fails here, before any event is read.
        _ = try self.select([])
    }

    /// The events of `events` whose line the expression matches, in their order.
    func select(_ events: [EventRecord]) throws(StoreError) -> [EventRecord] {
        do {
            let positions = try self.queue.inDatabase { db -> [Int64] in
                var found: [Int64] = []
                try db.inSavepoint {
                    let insert = try db.cachedStatement(sql: "INSERT INTO m (rowid, line) VALUES (?, ?)")
                    for (position, event) in events.enumerated() {
                        try insert.execute(arguments: [position, String(decoding: event.line, as: UTF8.self)])
                    }
                    found = try Int64.fetchAll(
                        db,
                        sql: "SELECT rowid FROM m WHERE line MATCH ? ORDER BY rowid",
                        arguments: [self.expression]
                    )
                    return .rollback
                }
                return found
            }
            return positions.map { events[Int($0)] }
        } catch let error as DatabaseError {
            throw StoreError.badMatch(expression: self.expression, reason: error.message ?? "\(error)")
        } catch {
            throw StoreError.database("full-text matcher: \(error)")
        }
    }
}

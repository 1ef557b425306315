/// A Sigma correlation rule (Sigma specification 2.0, "Sigma Correlation Rules"): it relates the matches of other
/// rules, named by their `name` or `id`, within a `timespan`, per value of its `group-by` fields.
///
/// Supported: the four types `event_count`, `value_count` (with `condition.field`), `temporal` and
/// `temporal_ordered`; conditions `gt`, `gte`, `lt`, `lte`, `eq` (several are ANDed); `aliases`; `generate`;
/// correlations of correlations. Windows are anchored at the earliest match not yet part of a hit and reach
/// `timespan` forward from it: every set of matches that satisfies the rule within `timespan` is found, and no
/// match is reported in two hits of one rule.
public struct SigmaCorrelation: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case eventCount = "event_count"
        case valueCount = "value_count"
        case temporal
        case temporalOrdered = "temporal_ordered"
    }

    public var kind: Kind
    /// The correlated rules, by `name` or `id`.
    public var rules: [String]
    /// Matches correlate only when these fields have the same values (no field: one group for everything).
    public var groupBy: [String]
    public var timespanNanos: Int64
    /// For the counting types, when a window counts; for the temporal types, how many of the rules must match
    /// (nil: all of them).
    public var condition: CountCondition?
    /// The field whose distinct values `value_count` counts.
    public var valueField: String?
    /// `alias → (rule reference → field)`: a `group-by` alias stands for another field in that rule's events.
    public var aliases: [String: [String: String]]
    /// Whether the correlated rules are also run on their own (Sigma's default: not).
    public var generate: Bool
    /// Keys of the section this implementation does not know, which are therefore ignored (said under the rule).
    public var ignoredKeys: [String]

    static let knownKeys: Set<String> = ["type", "rules", "group-by", "timespan", "condition", "aliases", "generate"]

    /// Reads the `correlation` section of a rule document.
    init(_ section: [String: Any], generate: Bool) throws(SigmaError) {
        guard let typeName = section["type"] as? String else { throw SigmaError("correlation has no type") }
        guard let kind = Kind(rawValue: typeName) else {
            throw SigmaError(
                "correlation type '\(typeName)' is not supported (supported: "
                    + Kind.allCases.map(\.rawValue).joined(separator: ", ") + ")"
            )
        }
        self.kind = kind
        self.ignoredKeys = section.keys.filter { !Self.knownKeys.contains($0) }.sorted()
        if let one = section["rules"] as? String {
            self.rules = [one]
        } else if let list = section["rules"] as? [Any], !list.isEmpty, list.allSatisfy({ $0 is String }) {
            self.rules = list.compactMap { $0 as? String }
        } else {
            throw SigmaError("correlation needs 'rules', a list of rule names or ids")
        }
        if let one = section["group-by"] as? String {
            self.groupBy = [one]
        } else if let list = section["group-by"] as? [Any] {
            guard list.allSatisfy({ $0 is String }) else { throw SigmaError("group-by lists field names") }
            self.groupBy = list.compactMap { $0 as? String }
        } else {
            self.groupBy = []
        }
        guard let span = section["timespan"].map({ "\($0)" }), let nanos = Self.timespanNanos(span) else {
            throw SigmaError("correlation needs 'timespan' as a number and s, m, h or d (for example 1h)")
        }
        self.timespanNanos = nanos
        self.generate = generate
        self.aliases = [:]
        if let aliases = section["aliases"] as? [String: Any] {
            for (alias, value) in aliases {
                guard let map = value as? [String: Any], map.values.allSatisfy({ $0 is String }) else {
                    throw SigmaError("alias '\(alias)' must map rule names to field names")
                }
                self.aliases[alias] = map.compactMapValues { $0 as? String }
            }
        }
        self.valueField = nil
        if let map = section["condition"] as? [String: Any] {
            var bounds = map
            if let field = bounds.removeValue(forKey: "field") {
                guard let name = field as? String else { throw SigmaError("condition.field must be a field name") }
                self.valueField = name
            }
            self.condition = try CountCondition(bounds)
        } else if section["condition"] != nil {
            throw SigmaError("correlation condition must be a map such as {gte: 10}")
        } else {
            self.condition = nil
        }
        switch kind {
        case .eventCount where self.condition == nil, .valueCount where self.condition == nil:
            throw SigmaError("\(kind.rawValue) needs a condition such as {gte: 10}")
        case .valueCount where self.valueField == nil:
            throw SigmaError("value_count needs condition.field, the field whose distinct values are counted")
        case .temporalOrdered where self.condition != nil:
            throw SigmaError("a condition on temporal_ordered is not supported: every rule must match, in order")
        default: break
        }
        for field in self.groupBy + (self.valueField.map { [$0] } ?? []) where self.aliases[field] == nil {
            guard SigmaFieldName.isValid(field) else {
                throw SigmaError("'\(field)' is not a field name that can be looked up")
            }
        }
    }

    /// `30s`, `5m`, `1h`, `7d` in nanoseconds, or nil.
    static func timespanNanos(_ text: String) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0 else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3_600
        case "d": seconds = 86_400
        default: return nil
        }
        let (nanos, overflow) = number.multipliedReportingOverflow(by: seconds * 1_000_000_000)
        return overflow ? nil : nanos
    }

    /// The field to read from the events of the rule referenced as `reference` for `field` of this correlation.
    package func field(_ field: String, in reference: String, also other: String?) -> String {
        guard let alias = self.aliases[field] else { return field }
        return alias[reference] ?? other.flatMap { alias[$0] } ?? field
    }

    /// Whether every referenced rule must match for a hit (which lets a search narrow the later ones).
    package var needsEveryRule: Bool {
        switch self.kind {
        case .temporalOrdered: true
        case .temporal: self.condition == nil || self.condition?.holds(self.rules.count - 1) == false
        case .eventCount, .valueCount: false
        }
    }
}

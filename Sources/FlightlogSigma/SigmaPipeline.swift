import Foundation
import Yams

/// How rules written for other log sources meet Flightlog's events: a subset of pySigma's processing pipelines
/// (https://sigmahq-pysigma.readthedocs.io/en/latest/Processing_Pipeline.html), read from the same YAML.
///
/// Supported transformations: `field_name_mapping` (a field to one name, or to a list of names of which any may
/// hold the value) and `add_condition` (field conditions the rule's detection must also meet: how a `logsource`
/// narrows the search to the programs that write it). Supported rule conditions: `logsource` (`product`,
/// `service`, `category`; every one given must equal the rule's), combined with `rule_cond_op` `and` (default) or
/// `or`; a transformation without conditions applies to every rule. Anything else in the file is an error that
/// names it, so that a pipeline never half-applies.
public struct SigmaPipeline: Sendable, Equatable {
    public var name: String
    public var transformations: [Transformation]

    public struct Transformation: Sendable, Equatable {
        public var id: String
        public var kind: Kind
        public var conditions: [[String: String]]
        public var conditionsAll: Bool

        public enum Kind: Sendable, Equatable {
            case fieldNameMapping([String: [String]])
            case addCondition([String: [String]])
        }

        /// Whether its rule conditions hold for a rule with this `logsource`.
        func applies(to logsource: [String: String]) -> Bool {
            guard !self.conditions.isEmpty else { return true }
            let results = self.conditions.map { condition in
                condition.allSatisfy { key, value in logsource[key]?.lowercased() == value.lowercased() }
            }
            return self.conditionsAll ? results.allSatisfy { $0 } : results.contains(true)
        }
    }

    public init(name: String, transformations: [Transformation]) {
        self.name = name
        self.transformations = transformations
    }

    /// Reads a pipeline; throws a ``SigmaError`` that names what it cannot use.
    public init(yaml: String) throws(SigmaError) {
        let document: Any?
        do {
            document = try Yams.load(yaml: yaml)
        } catch {
            throw SigmaError("the pipeline is not valid YAML: \(error)")
        }
        guard let map = document as? [String: Any] else { throw SigmaError("the pipeline is not a map") }
        self.name = map["name"] as? String ?? "pipeline"
        guard let list = map["transformations"] as? [Any] else {
            throw SigmaError("the pipeline has no transformations list")
        }
        self.transformations = []
        for (index, item) in list.enumerated() {
            guard let entry = item as? [String: Any], let type = entry["type"] as? String else {
                throw SigmaError("transformation \(index + 1) has no type")
            }
            let id = entry["id"] as? String ?? "transformation \(index + 1)"
            let kind: Transformation.Kind
            switch type {
            case "field_name_mapping":
                guard let mapping = entry["mapping"] as? [String: Any] else { throw SigmaError("\(id): no mapping") }
                kind = .fieldNameMapping(try Self.names(mapping, id))
            case "add_condition":
                guard let conditions = entry["conditions"] as? [String: Any] else {
                    throw SigmaError("\(id): no conditions")
                }
                kind = .addCondition(try Self.names(conditions, id))
            default:
                throw SigmaError("\(id): transformation type '\(type)' is not supported")
            }
            var conditions: [[String: String]] = []
            for case let condition as [String: Any] in (entry["rule_conditions"] as? [Any]) ?? [] {
                guard condition["type"] as? String == "logsource" else {
                    throw SigmaError("\(id): only logsource rule conditions are supported")
                }
                var fields: [String: String] = [:]
                for key in ["product", "service", "category"] {
                    if let value = condition[key] as? String { fields[key] = value }
                }
                conditions.append(fields)
            }
            let operation = entry["rule_cond_op"] as? String ?? "and"
            guard operation == "and" || operation == "or" else {
                throw SigmaError("\(id): rule_cond_op '\(operation)' is not and or or")
            }
            self.transformations.append(
                Transformation(id: id, kind: kind, conditions: conditions, conditionsAll: operation == "and")
            )
        }
    }

    private static func names(_ map: [String: Any], _ id: String) throws(SigmaError) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for (key, value) in map {
            if let list = value as? [Any] {
                out[key] = list.compactMap { SigmaConditionParser.scalar($0) }
            } else if let one = SigmaConditionParser.scalar(value) {
                out[key] = [one]
            } else {
                throw SigmaError("\(id): the value of \(key) is neither a name nor a list of names")
            }
        }
        return out
    }

    /// `rule` with this pipeline applied: its detection's field names mapped and its logsource's conditions added;
    /// the transformations that applied are named in ``SigmaRule/pipelineApplied``.
    public func apply(to rule: SigmaRule) -> SigmaRule {
        var rule = rule
        guard var detection = rule.detection else { return rule }
        for transformation in self.transformations where transformation.applies(to: rule.logsource) {
            switch transformation.kind {
            case .fieldNameMapping(let mapping):
                detection = Self.renamed(detection, mapping)
            case .addCondition(let conditions):
                let added = conditions.keys.sorted().map { field -> SigmaExpression in
                    let values = (conditions[field] ?? []).map {
                        SigmaExpression.match(SigmaFieldMatch(field: field, modifier: .equals, value: .text($0)))
                    }
                    return values.count == 1 ? values[0] : .any(values)
                }
                detection = .all([detection] + added)
                rule.logsourceNarrowed = true
                rule.addedConditions += added
            }
            rule.pipelineApplied.append(transformation.id)
        }
        rule.detection = detection
        return rule
    }

    private static func renamed(_ expression: SigmaExpression, _ mapping: [String: [String]]) -> SigmaExpression {
        switch expression {
        case .all(let parts): return .all(parts.map { Self.renamed($0, mapping) })
        case .any(let parts): return .any(parts.map { Self.renamed($0, mapping) })
        case .not(let inner): return .not(Self.renamed(inner, mapping))
        case .keyword, .always: return expression
        case .match(var match):
            if match.modifier == .fieldref, case .text(let other) = match.value, let target = mapping[other]?.first {
                match.value = .text(target)
            }
            guard let targets = mapping[match.field], !targets.isEmpty else { return .match(match) }
            let alternatives = targets.map { target -> SigmaExpression in
                var copy = match
                copy.field = target
                return .match(copy)
            }
            // A null comparison (the field is absent) must hold under every name the field may have.
            if case .null = match.value { return alternatives.count == 1 ? alternatives[0] : .all(alternatives) }
            return alternatives.count == 1 ? alternatives[0] : .any(alternatives)
        }
    }
}

import FlightlogEvidence
import GRDB

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

    /// `field` may be an Elastic Common Schema name (`user.name`): it is read as the agent's (``FieldSchema``).
    public init(field: String, op: Operator, value: String) {
        self.field = FieldSchema.flightlogName(field)
        self.op = op
        self.value = value
    }

    /// Parses `field=value`, `field!=value` or `field~regex`; the first operator wins, so values may contain `=`.
    public init(parsing text: String) throws(StoreError) {
        guard let index = text.firstIndex(where: { $0 == "=" || $0 == "~" || $0 == "!" }) else {
            throw StoreError.badCondition(text)
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
            throw StoreError.badCondition(text)
        }
        guard Self.isValidFieldName(field) else { throw StoreError.badCondition(text) }
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

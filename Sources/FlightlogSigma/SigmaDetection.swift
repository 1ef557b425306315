/// A rule's detection, parsed: its `condition` with every selection it names resolved into comparisons.
///
/// No storage engine's syntax appears here; a store compiles the tree into its own queries (FlightlogStore's
/// `SigmaSQLCompiler` into SQLite SQL with full-text candidates).
public indirect enum SigmaExpression: Sendable, Equatable {
    /// Every part holds: `and`, `all of`, the fields of one map, the values of a field under `|all`.
    case all([SigmaExpression])
    /// Some part holds: `or`, `1 of`, a list of maps, a keyword list, the values of a field.
    case any([SigmaExpression])
    case not(SigmaExpression)
    /// One field compared with one value.
    case match(SigmaFieldMatch)
    /// A keyword: found in the raw line, with Sigma's `*` and `?` wildcards.
    case keyword(String)
    /// An empty map: every event.
    case always
}

/// `field|modifier: value`, for one of the field's values.
public struct SigmaFieldMatch: Sendable, Equatable {
    /// As the rule spells it; a store maps well-known names (`user`, `src_ip`, `message`…) to its columns.
    public var field: String
    public var modifier: SigmaModifier
    public var value: SigmaValue

    public init(field: String, modifier: SigmaModifier, value: SigmaValue) {
        self.field = field
        self.modifier = modifier
        self.value = value
    }
}

/// How a field's value is compared: case-insensitively, as Sigma specifies (see ``SigmaText``), except `re`.
/// Sigma's value modifiers (`base64`, `base64offset`, `windash`, `exists`, `re`'s flags `i`, `m`, `s`) are applied
/// when the rule is read: they become values, comparisons and patterns of these kinds.
public enum SigmaModifier: String, Sendable, CaseIterable {
    /// No modifier: the whole value, with `*` and `?` wildcards.
    case equals
    case contains
    case startswith
    case endswith
    /// A regular expression (NSRegularExpression syntax), found anywhere in the value.
    case re
    /// The value is an IPv4 or IPv6 address inside the network (`10.0.0.0/8`, `2001:db8::/32`).
    case cidr
    /// The value is a number greater than, at least, less than, at most the rule's (``SigmaText/number(_:)``).
    case gt, gte, lt, lte
    /// The value equals (case-insensitively, no wildcards) a value of the field the rule names.
    case fieldref

    /// Whether it compares text with a Sigma pattern (wildcards, escapes, case folding): `equals`, `contains`,
    /// `startswith`, `endswith`.
    public var comparesText: Bool {
        switch self {
        case .equals, .contains, .startswith, .endswith: true
        case .re, .cidr, .gt, .gte, .lt, .lte, .fieldref: false
        }
    }
}

/// The value a field is compared with.
public enum SigmaValue: Sendable, Equatable {
    /// Text, with Sigma's wildcards and `\` escapes; numbers and booleans are compared as their text.
    case text(String)
    /// `null`: the field is absent.
    case null
}

/// The field names a rule may use: letters, digits and `_ - . @ :`, at most 255 bytes, so that a store can look one
/// up without quoting problems (the same rule as `flightlog query --where`).
public enum SigmaFieldName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255
            && name.unicodeScalars.allSatisfy {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.@:".unicodeScalars.contains($0)
            }
    }
}

import Foundation
import Synchronization

/// What ``SigmaEvaluator`` reads of one event.
public protocol SigmaEventValues {
    /// The raw line, which keywords search.
    var line: String { get }
    /// The values of a field as a rule names it (a repeated field has several); nil when the event has none.
    func values(of field: String) -> [String]?
}

/// Sigma's meaning of a detection, evaluated on one event in plain Swift: the reference a store's compiled queries
/// are compared with, and a matcher for engines without a query language.
///
/// - A keyword is found anywhere in the line (``SigmaText``); a comparison holds when any of the field's values
///   satisfies it; `null` holds when the field is absent; a field that is absent satisfies no other comparison.
/// - `re` finds its NSRegularExpression anywhere in the value, case-sensitively, as written.
public enum SigmaEvaluator {
    /// Compiled `re` patterns: a hunt evaluates each rule on every event (compiling one took ~40 µs).
    private static let compiled = Mutex<[String: NSRegularExpression?]>([:])

    static func regex(_ pattern: String) -> NSRegularExpression? {
        if let known = Self.compiled.withLock({ $0[pattern] }) { return known }
        let regex = try? NSRegularExpression(pattern: pattern)
        Self.compiled.withLock { cache in
            if cache.count > 1_024 { cache.removeAll() }
            cache[pattern] = .some(regex)
        }
        return regex
    }

    public static func matches(_ expression: SigmaExpression, _ event: some SigmaEventValues) -> Bool {
        switch expression {
        case .all(let parts): return parts.allSatisfy { Self.matches($0, event) }
        case .any(let parts): return parts.contains { Self.matches($0, event) }
        case .not(let inner): return !Self.matches(inner, event)
        case .always: return true
        case .keyword(let text): return SigmaText.matches(event.line, .contains, text)
        case .match(let match):
            let values = event.values(of: match.field)
            guard case .text(let text) = match.value else { return values == nil }
            guard let values else { return false }
            if match.modifier == .re {
                guard let regex = Self.regex(text) else { return false }
                return values.contains { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
            }
            if match.modifier == .fieldref {
                guard let others = event.values(of: text) else { return false }
                return values.contains { value in others.contains { SigmaText.sameFolded(value, $0) } }
            }
            return values.contains { SigmaText.matches($0, match.modifier, text) }
        }
    }
}

import Foundation
import GRDB

/// SQLite's `REGEXP` operator (`x REGEXP pattern`), backed by NSRegularExpression.
///
/// Compiled patterns are cached: a query binds one pattern and applies it to every row.
enum RegexFunction {
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var compiled: [String: NSRegularExpression] = [:]

        func regex(_ pattern: String) -> NSRegularExpression? {
            self.lock.lock()
            defer { self.lock.unlock() }
            if let regex = self.compiled[pattern] { return regex }
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
            if self.compiled.count > 256 { self.compiled.removeAll() }
            self.compiled[pattern] = regex
            return regex
        }
    }

    private static let cache = Cache()

    /// `regexp(pattern, text)`: 1 when `text` contains a match, 0 when not, NULL when `text` is NULL.
    static let function = DatabaseFunction("regexp", argumentCount: 2, pure: true) { values in
        guard let pattern = String.fromDatabaseValue(values[0]) else { return nil }
        let text: String
        if let string = String.fromDatabaseValue(values[1]) {
            text = string
        } else if let data = Data.fromDatabaseValue(values[1]) {
            text = String(decoding: data, as: UTF8.self)
        } else {
            return nil
        }
        guard let regex = Self.cache.regex(pattern) else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Throws ``StoreError/badRegex(pattern:reason:)`` unless `pattern` compiles.
    static func validate(_ pattern: String) throws(StoreError) {
        do {
            _ = try NSRegularExpression(pattern: pattern)
        } catch {
            throw StoreError.badRegex(pattern: pattern, reason: error.localizedDescription)
        }
    }
}

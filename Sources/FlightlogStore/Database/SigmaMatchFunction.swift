import FlightlogSigma
import Foundation
import GRDB

/// `sigma_match(value, modifier, text)`: 1 when `value` satisfies the Sigma comparison (`equals`, `contains`,
/// `startswith`, `endswith`, `cidr`, `gt`, `gte`, `lt`, `lte`) with `text` as ``SigmaText`` defines it, 0 when not,
/// NULL when `value` is NULL. Used for text that is not all ASCII, whose case SQLite's `LIKE` does not fold, and for
/// networks and numbers (see ``SigmaSQLCompiler``). `sigma_same(a, b)`: `fieldref`'s folded equality.
enum SigmaMatchFunction {
    static let same = DatabaseFunction("sigma_same", argumentCount: 2, pure: true) { values in
        guard let a = Self.text(values[0]), let b = Self.text(values[1]) else { return nil }
        return SigmaText.sameFolded(a, b)
    }

    private static func text(_ value: DatabaseValue) -> String? {
        if let string = String.fromDatabaseValue(value) { return string }
        if let data = Data.fromDatabaseValue(value) { return String(decoding: data, as: UTF8.self) }
        return nil
    }

    static let function = DatabaseFunction("sigma_match", argumentCount: 3, pure: true) { values in
        guard let value = Self.text(values[0]) else { return nil }
        guard let name = String.fromDatabaseValue(values[1]), let modifier = SigmaModifier(rawValue: name),
            let text = String.fromDatabaseValue(values[2])
        else { return false }
        return SigmaText.matches(value, modifier, text)
    }
}

import Foundation

/// Parses a detection's `condition` over its selections into a ``SigmaExpression``.
///
/// The grammar: `and`, `or`, `not`, parentheses, `1 of X*`, `all of X*`, `1 of them`, `all of them`, selection names.
/// A selection is a map (its fields AND), a list of maps (OR), or a list of plain values (keywords, OR). A field key
/// is `name` or `name|modifier|…` with `contains`, `startswith`, `endswith`, `re` and `all`.
struct SigmaConditionParser {
    let selections: [String: Any]
    /// How deep `not` and parentheses nest where the parser is; bounded, since each level is a recursive call and
    /// a rule file is input: thousands of levels would overflow the stack.
    private var depth = 0
    /// The deepest nesting accepted; SigmaHQ's rules nest a few levels.
    static let maxDepth = 64

    init(selections: [String: Any]) {
        self.selections = selections
    }

    mutating func parse(condition: String) throws(SigmaError) -> SigmaExpression {
        var tokens = Self.tokenize(condition)[...]
        let expression = try self.parseOr(&tokens)
        guard tokens.isEmpty else { throw SigmaError("unexpected '\(tokens.first ?? "")' in condition '\(condition)'") }
        return expression
    }

    // MARK: - Condition grammar

    static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character == "(" || character == ")" {
                if !current.isEmpty { tokens.append(current) }
                current = ""
                tokens.append(String(character))
            } else if character.isWhitespace {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    private mutating func parseOr(_ tokens: inout ArraySlice<String>) throws(SigmaError) -> SigmaExpression {
        var parts = [try self.parseAnd(&tokens)]
        while tokens.first?.lowercased() == "or" {
            tokens.removeFirst()
            parts.append(try self.parseAnd(&tokens))
        }
        return parts.count == 1 ? parts[0] : .any(parts)
    }

    private mutating func parseAnd(_ tokens: inout ArraySlice<String>) throws(SigmaError) -> SigmaExpression {
        var parts = [try self.parseNot(&tokens)]
        while tokens.first?.lowercased() == "and" {
            tokens.removeFirst()
            parts.append(try self.parseNot(&tokens))
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private mutating func parseNot(_ tokens: inout ArraySlice<String>) throws(SigmaError) -> SigmaExpression {
        guard let token = tokens.first else { throw SigmaError("the condition ends too early") }
        self.depth += 1
        defer { self.depth -= 1 }
        guard self.depth <= Self.maxDepth else {
            throw SigmaError("the condition nests 'not' and parentheses deeper than \(Self.maxDepth) levels")
        }
        switch token.lowercased() {
        case "not":
            tokens.removeFirst()
            return .not(try self.parseNot(&tokens))
        case "(":
            tokens.removeFirst()
            let inner = try self.parseOr(&tokens)
            guard tokens.first == ")" else { throw SigmaError("a parenthesis is not closed") }
            tokens.removeFirst()
            return inner
        case "1", "all", "any":
            tokens.removeFirst()
            guard tokens.first?.lowercased() == "of", let pattern = tokens.dropFirst().first else {
                throw SigmaError("expected '\(token) of PATTERN'")
            }
            tokens.removeFirst(2)
            let names = self.selections.keys.filter { Self.matches(pattern: pattern, name: $0) }.sorted()
            guard !names.isEmpty else { throw SigmaError("no selection matches '\(pattern)'") }
            var parts: [SigmaExpression] = []
            for name in names { parts.append(try self.selection(name)) }
            if parts.count == 1 { return parts[0] }
            return token == "all" ? .all(parts) : .any(parts)
        default:
            tokens.removeFirst()
            return try self.selection(token)
        }
    }

    static func matches(pattern: String, name: String) -> Bool {
        if pattern == "them" { return true }
        if pattern.hasSuffix("*") { return name.hasPrefix(pattern.dropLast()) }
        return name == pattern
    }

    // MARK: - Selections

    private func selection(_ name: String) throws(SigmaError) -> SigmaExpression {
        guard let value = self.selections[name] else {
            throw SigmaError("the condition names '\(name)', which is not defined")
        }
        if let map = value as? [String: Any] {
            return try self.map(map)
        }
        if let list = value as? [Any] {
            if list.allSatisfy({ $0 is [String: Any] }) {
                var maps: [SigmaExpression] = []
                for case let map as [String: Any] in list { maps.append(try self.map(map)) }
                return maps.count == 1 ? maps[0] : .any(maps)
            }
            // A list of plain values: keywords, searched for in the raw line.
            var keywords: [SigmaExpression] = []
            for item in list {
                guard let text = Self.scalar(item) else { throw SigmaError("keyword lists hold plain values only") }
                keywords.append(.keyword(text))
            }
            return keywords.count == 1 ? keywords[0] : .any(keywords)
        }
        throw SigmaError("selection '\(name)' is neither a map nor a list")
    }

    private func map(_ map: [String: Any]) throws(SigmaError) -> SigmaExpression {
        var fields: [SigmaExpression] = []
        for key in map.keys.sorted() { fields.append(try self.field(key, map[key] as Any)) }
        if fields.isEmpty { return .always }
        return fields.count == 1 ? fields[0] : .all(fields)
    }

    private func field(_ key: String, _ value: Any) throws(SigmaError) -> SigmaExpression {
        if key.hasPrefix("|") { return try self.keywords(modifiers: key, value) }
        var pieces = key.split(separator: "|").map(String.init)
        let name = pieces.removeFirst()
        guard SigmaFieldName.isValid(name) else { throw SigmaError("field name '\(name)' cannot be looked up") }
        var all = false
        var modifier = SigmaModifier.equals
        var transforms: [String] = []
        var regexFlags = ""
        var exists = false
        for piece in pieces {
            switch piece {
            case "all": all = true
            case "contains": modifier = .contains
            case "startswith": modifier = .startswith
            case "endswith": modifier = .endswith
            case "re": modifier = .re
            case "i", "m", "s":
                // `re`'s flags: case-insensitive, multi-line, dot matches newline.
                guard modifier == .re else { throw SigmaError("modifier '\(piece)' (on \(name)) needs re before it") }
                regexFlags += piece
            case "cidr": modifier = .cidr
            case "gt": modifier = .gt
            case "gte": modifier = .gte
            case "lt": modifier = .lt
            case "lte": modifier = .lte
            case "fieldref": modifier = .fieldref
            case "exists": exists = true
            case "base64", "base64offset", "windash": transforms.append(piece)
            default: throw SigmaError("modifier '\(piece)' (on \(name)) is not supported")
            }
        }
        if exists {
            // `field|exists: true` holds when the field is present, `false` when it is absent.
            guard let wanted = value as? Bool else { throw SigmaError("\(name)|exists takes true or false") }
            let absent = SigmaExpression.match(SigmaFieldMatch(field: name, modifier: .equals, value: .null))
            return wanted ? .not(absent) : absent
        }
        let values: [Any] = (value as? [Any]) ?? [value]
        var matches: [SigmaExpression] = []
        for item in values {
            if item is NSNull {
                matches.append(.match(SigmaFieldMatch(field: name, modifier: .equals, value: .null)))
                continue
            }
            guard let text = Self.scalar(item) else { throw SigmaError("the value of \(name) is not a plain value") }
            var texts = [text]
            for transform in transforms { texts = try Self.transform(texts, transform, field: name) }
            var alternatives: [SigmaExpression] = []
            for text in texts {
                let checked = try Self.checked(text, modifier, flags: regexFlags, field: name)
                alternatives.append(.match(SigmaFieldMatch(field: name, modifier: modifier, value: .text(checked))))
            }
            matches.append(alternatives.count == 1 ? alternatives[0] : .any(alternatives))
        }
        if matches.count == 1 { return matches[0] }
        return all ? .all(matches) : .any(matches)
    }

    /// `text` as the modifier needs it, or why it cannot be used: a regular expression that compiles (its flags
    /// written into it), a number, a network, a field name.
    private static func checked(
        _ text: String,
        _ modifier: SigmaModifier,
        flags: String,
        field: String
    ) throws(SigmaError) -> String {
        switch modifier {
        case .re:
            let pattern = flags.isEmpty ? text : "(?" + flags + ")" + text
            do {
                _ = try NSRegularExpression(pattern: pattern)
            } catch {
                throw SigmaError("the regular expression '\(text)' does not compile: \(error.localizedDescription)")
            }
            return pattern
        case .gt, .gte, .lt, .lte:
            guard SigmaText.number(text) != nil else {
                throw SigmaError("\(field)|\(modifier.rawValue) needs a number, not '\(text)'")
            }
        case .cidr:
            guard SigmaText.network(text) != nil else {
                throw SigmaError("\(field)|cidr needs a network such as 10.0.0.0/8, not '\(text)'")
            }
        case .fieldref:
            guard SigmaFieldName.isValid(text) else { throw SigmaError("\(field)|fieldref names no field: '\(text)'") }
        case .equals, .contains, .startswith, .endswith:
            break
        }
        return text
    }

    /// The values Sigma's transforming modifiers make of `texts`.
    private static func transform(_ texts: [String], _ name: String, field: String) throws(SigmaError) -> [String] {
        var out: [String] = []
        for text in texts {
            if name != "windash", text.contains(where: { $0 == "*" || $0 == "?" }) {
                throw SigmaError("\(field)|\(name): a wildcard cannot be encoded ('\(text)')")
            }
            switch name {
            case "base64": out.append(Data(text.utf8).base64EncodedString())
            case "base64offset": out += SigmaText.base64Offsets(text)
            default:
                guard let variants = SigmaText.windashVariants(text) else {
                    throw SigmaError("\(field)|windash: more than 3 parameters in '\(text)'")
                }
                out += variants
            }
        }
        return out
    }

    /// `'|all': [a, b]` (a key with modifiers and no field name): keywords, every one of which must be in the raw
    /// line with `all`, any one of them otherwise. `contains` changes nothing (a keyword is a substring already).
    private func keywords(modifiers key: String, _ value: Any) throws(SigmaError) -> SigmaExpression {
        var all = false
        for piece in key.split(separator: "|") {
            switch piece {
            case "all": all = true
            case "contains": continue
            default: throw SigmaError("modifier '\(piece)' on a keyword list is not supported")
            }
        }
        var keywords: [SigmaExpression] = []
        for item in (value as? [Any]) ?? [value] {
            guard let text = Self.scalar(item) else { throw SigmaError("keyword lists hold plain values only") }
            keywords.append(.keyword(text))
        }
        if keywords.count == 1 { return keywords[0] }
        return all ? .all(keywords) : .any(keywords)
    }

    /// A YAML scalar as text: strings as they are, numbers and booleans as written out.
    static func scalar(_ value: Any) -> String? {
        if let text = value as? String { return text }
        if let int = value as? Int { return String(int) }
        if let double = value as? Double { return String(double) }
        if let bool = value as? Bool { return bool ? "true" : "false" }
        return nil
    }
}

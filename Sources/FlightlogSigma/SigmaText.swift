/// How Sigma compares text: case-insensitively, with `*` (any run of characters) and `?` (one character) and their
/// escapes. The reference for every store: a store may compile comparisons into its own query language, but must
/// agree with this (FlightlogStore's differential test checks that it does).
///
/// - Case: both sides are folded character by character with Unicode's simple lowercase mapping (`É` and `é`, `Σ`
///   and `σ`, `İ` stays itself). It equals simple case folding except for a few letters (final sigma `ς`, the
///   Cherokee letters), which fold to themselves here.
/// - Characters are Unicode scalars: `?` is one scalar, as SQLite's `_` is.
/// - Escapes: `\*`, `\?` and `\\` stand for `*`, `?` and `\`; a `\` before anything else, or at the end, is itself.
public enum SigmaText {
    /// One piece of a pattern.
    public enum Token: Equatable, Sendable {
        case literal(Unicode.Scalar)
        case anyRun
        case anyOne
    }

    /// `text`'s wildcards and escapes read into tokens, literals not folded.
    public static func tokens(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case "*": tokens.append(.anyRun)
            case "?": tokens.append(.anyOne)
            case "\\":
                guard let next = scalars.next() else {
                    tokens.append(.literal("\\"))
                    break
                }
                switch next {
                case "*", "?", "\\": tokens.append(.literal(next))
                default:
                    tokens.append(.literal("\\"))
                    tokens.append(.literal(next))
                }
            default: tokens.append(.literal(scalar))
            }
        }
        return tokens
    }

    /// Whether `text` has a character that is not ASCII.
    public static func isASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }

    /// `scalar` under the simple lowercase mapping (itself when that mapping is not one scalar).
    public static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            return ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32) ?? scalar : scalar
        }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        guard lower.count == 1, let only = lower.first else { return scalar }
        return only
    }

    /// Whether all of `value` matches all of `pattern` (tokens), case-insensitively.
    public static func matches(_ value: String, _ pattern: [Token]) -> Bool {
        let text = value.unicodeScalars.map(Self.fold)
        let tokens = pattern.map { token -> Token in
            if case .literal(let scalar) = token { return .literal(Self.fold(scalar)) }
            return token
        }
        // Iterative wildcard matching with one backtrack point (the last `*`): linear in practice, O(n·m) at worst.
        var t = 0
        var p = 0
        var star: Int? = nil
        var starText = 0
        while t < text.count {
            if p < tokens.count {
                switch tokens[p] {
                case .anyRun:
                    star = p
                    starText = t
                    p += 1
                    continue
                case .anyOne:
                    t += 1
                    p += 1
                    continue
                case .literal(let scalar) where scalar == text[t]:
                    t += 1
                    p += 1
                    continue
                case .literal:
                    break
                }
            }
            guard let star else { return false }
            p = star + 1
            starText += 1
            t = starText
        }
        while p < tokens.count, tokens[p] == .anyRun { p += 1 }
        return p == tokens.count
    }

    /// Whether `value` satisfies `modifier` with `text` (a Sigma value with wildcards); `re` is not text matching
    /// and answers false here (see ``SigmaEvaluator``).
    public static func matches(_ value: String, _ modifier: SigmaModifier, _ text: String) -> Bool {
        let tokens = Self.tokens(text)
        switch modifier {
        case .equals: return Self.matches(value, tokens)
        case .contains: return Self.matches(value, [.anyRun] + tokens + [.anyRun])
        case .startswith: return Self.matches(value, tokens + [.anyRun])
        case .endswith: return Self.matches(value, [.anyRun] + tokens)
        case .re: return false
        }
    }
}

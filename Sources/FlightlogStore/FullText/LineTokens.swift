import GRDB
import Synchronization

/// SQLite's `unicode61` tokenizer, the full-text index's, outside any index: the tokens it finds in a line as FTS5
/// stores them (case folded, diacritics removed). A store without FTS5 (PostgreSQL) keeps each batch's distinct
/// tokens to find the batches a `--match` can match, and confirms the events there with FTS5 itself
/// (``EventRecordFilter``). Used by one task at a time: a store hands them out from a pool (``LineTokenizerPool``),
/// which is what the unchecked `Sendable` promises.
public final class LineTokenizer: @unchecked Sendable {
    /// The in-memory connection the tokenizer belongs to (it lives as long as the connection).
    private let queue: DatabaseQueue
    private let tokenizer: any FTS5Tokenizer

    public init() throws(StoreError) {
        do {
            let queue = try DatabaseQueue()
            self.queue = queue
            self.tokenizer = try queue.inDatabase { db in try db.makeTokenizer(.unicode61()) }
        } catch {
            throw StoreError.database("cannot make the unicode61 tokenizer: \(error)")
        }
    }

    /// Adds the tokens of `line` (decoded as the indexer decodes it) to `tokens`.
    public func addTokens(of line: some Collection<UInt8>, to tokens: inout Set<String>) {
        let text = String(decoding: line, as: UTF8.self)
        for (token, _) in (try? self.tokenizer.tokenize(document: text)) ?? [] { tokens.insert(token) }
    }

    /// The tokens of a phrase or bareword of an FTS5 query.
    func queryTokens(_ text: String) -> [String] {
        ((try? self.tokenizer.tokenize(query: text)) ?? []).map(\.token)
    }
}

/// Tokenizers for tasks that tokenize side by side: each takes one, and gives it back.
public final class LineTokenizerPool: Sendable {
    private let free = Mutex<[LineTokenizer]>([])

    public init() {}

    /// `body` with a tokenizer no other task uses meanwhile.
    public func with<T>(_ body: (LineTokenizer) throws(StoreError) -> T) throws(StoreError) -> T {
        let reused = self.free.withLock { $0.popLast() }
        let tokenizer: LineTokenizer
        if let reused { tokenizer = reused } else { tokenizer = try LineTokenizer() }
        defer { self.free.withLock { $0.append(tokenizer) } }
        return try body(tokenizer)
    }
}

/// What an FTS5 `--match` expression needs of a document's tokens, conservatively: every line the expression matches
/// has the tokens it names (a line that has them may still not match: phrases, NEAR and NOT are left to FTS5).
public indirect enum TokenRequirement: Sendable, Equatable {
    /// Every one of these tokens.
    case tokens([String])
    case all([TokenRequirement])
    case any([TokenRequirement])
    /// Nothing known (a prefix, a parse this reader is not sure of): every document is a candidate.
    case nothing

    /// The requirement of `expression` (FTS5's query syntax: barewords, "strings", `AND`, `OR`, `NOT`, parentheses,
    /// `NEAR(…)`, `*` prefixes, `^`, `+`, column filters), its phrases tokenized by `tokenizer`. Anything it does not
    /// read with certainty requires nothing.
    public static func of(match expression: String, tokenizer: LineTokenizer) -> TokenRequirement {
        var parser = MatchParser(text: Array(expression.unicodeScalars), tokenizer: tokenizer)
        guard let requirement = parser.orExpression(), parser.atEnd else { return .nothing }
        return requirement.simplified
    }

    /// With `.nothing` taken out of AND and spread through OR.
    var simplified: TokenRequirement {
        switch self {
        case .tokens(let tokens): return tokens.isEmpty ? .nothing : self
        case .nothing: return .nothing
        case .all(let parts):
            let known = parts.map(\.simplified).filter { $0 != .nothing }
            return known.isEmpty ? .nothing : known.count == 1 ? known[0] : .all(known)
        case .any(let parts):
            let alternatives = parts.map(\.simplified)
            return alternatives.contains(.nothing) || alternatives.isEmpty ? .nothing : .any(alternatives)
        }
    }
}

/// A reader of FTS5's query syntax (https://sqlite.org/fts5.html#full_text_query_syntax) that keeps only what a
/// match needs: NOT binds tightest, then AND (or two phrases side by side), then OR.
private struct MatchParser {
    let text: [Unicode.Scalar]
    let tokenizer: LineTokenizer
    var position = 0

    init(text: [Unicode.Scalar], tokenizer: LineTokenizer) {
        self.text = text
        self.tokenizer = tokenizer
    }

    var atEnd: Bool {
        mutating get {
            self.skipSpace()
            return self.position == self.text.count
        }
    }

    mutating func skipSpace() {
        while self.position < self.text.count, self.text[self.position].properties.isWhitespace { self.position += 1 }
    }

    /// The keyword at the position (`AND`, `OR`, `NOT`, `NEAR`), without taking it.
    mutating func keyword() -> String? {
        self.skipSpace()
        let start = self.position
        var end = start
        while end < self.text.count, Self.isBareword(self.text[end]) { end += 1 }
        let word = String(String.UnicodeScalarView(self.text[start..<end]))
        return ["AND", "OR", "NOT", "NEAR"].contains(word) ? word : nil
    }

    mutating func take(keyword: String) -> Bool {
        guard self.keyword() == keyword else { return false }
        self.position += keyword.unicodeScalars.count
        return true
    }

    mutating func take(_ character: Unicode.Scalar) -> Bool {
        self.skipSpace()
        guard self.position < self.text.count, self.text[self.position] == character else { return false }
        self.position += 1
        return true
    }

    mutating func orExpression() -> TokenRequirement? {
        guard var parts = self.andExpression().map({ [$0] }) else { return nil }
        while self.take(keyword: "OR") {
            guard let next = self.andExpression() else { return nil }
            parts.append(next)
        }
        return parts.count == 1 ? parts[0] : .any(parts)
    }

    mutating func andExpression() -> TokenRequirement? {
        guard var parts = self.notExpression().map({ [$0] }) else { return nil }
        while true {
            if self.take(keyword: "AND") {
                guard let next = self.notExpression() else { return nil }
                parts.append(next)
                continue
            }
            // Two phrases side by side: an implicit AND.
            self.skipSpace()
            guard self.position < self.text.count, self.keyword() == nil || self.keyword() == "NEAR",
                self.text[self.position] != ")"
            else { break }
            guard let next = self.notExpression() else { return nil }
            parts.append(next)
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    mutating func notExpression() -> TokenRequirement? {
        guard let kept = self.primary() else { return nil }
        while self.take(keyword: "NOT") {
            // What follows NOT must be absent: it requires nothing.
            guard self.primary() != nil else { return nil }
        }
        return kept
    }

    mutating func primary() -> TokenRequirement? {
        self.skipSpace()
        guard self.position < self.text.count else { return nil }
        if self.take("(") {
            guard let inner = self.orExpression(), self.take(")") else { return nil }
            return inner
        }
        if self.keyword() == "NEAR" {
            _ = self.take(keyword: "NEAR")
            guard self.take("(") else { return nil }
            var tokens: [String] = []
            while !self.take(")") {
                if self.take(",") {
                    self.skipSpace()
                    while self.position < self.text.count, ("0"..."9").contains(self.text[self.position]) {
                        self.position += 1
                    }
                    continue
                }
                guard case .tokens(let found)? = self.phrase() else { return nil }
                tokens += found
            }
            return .tokens(tokens)
        }
        // A column filter: `col :`, `{col col} :`, `- col :`. The expression after it still names the tokens.
        let saved = self.position
        _ = self.take("-")
        if self.take("{") {
            while !self.take("}") {
                guard self.position < self.text.count else { return nil }
                self.position += 1
            }
            guard self.take(":") else { return nil }
            return self.primary()
        }
        if let _ = self.bareword(), self.take(":") { return self.primary() }
        self.position = saved
        return self.phrase()
    }

    /// `^`? then strings or barewords joined by `+`, the last maybe a prefix (`*`): the tokens of all but a prefix.
    mutating func phrase() -> TokenRequirement? {
        var tokens: [String] = []
        repeat {
            _ = self.take("^")
            self.skipSpace()
            guard self.position < self.text.count else { return nil }
            let text: String
            if self.text[self.position] == "\"" {
                guard let string = self.string() else { return nil }
                text = string
            } else {
                guard self.keyword() == nil, let word = self.bareword() else { return nil }
                text = word
            }
            var found = self.tokenizer.queryTokens(text)
            if self.take("*"), !found.isEmpty { found.removeLast() }
            tokens += found
        } while self.take("+")
        return .tokens(tokens)
    }

    mutating func string() -> String? {
        guard self.take("\"") else { return nil }
        var out = String.UnicodeScalarView()
        while self.position < self.text.count {
            let scalar = self.text[self.position]
            self.position += 1
            if scalar == "\"" {
                guard self.position < self.text.count, self.text[self.position] == "\"" else {
                    return String(out)
                }
                self.position += 1
            }
            out.append(scalar)
        }
        return nil
    }

    mutating func bareword() -> String? {
        self.skipSpace()
        let start = self.position
        while self.position < self.text.count, Self.isBareword(self.text[self.position]) { self.position += 1 }
        guard self.position > start else { return nil }
        return String(String.UnicodeScalarView(self.text[start..<self.position]))
    }

    /// FTS5's bareword characters: non-ASCII, ASCII letters and digits, `_`, and U+001A.
    static func isBareword(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x80 || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
            || ("0"..."9").contains(scalar) || scalar == "_" || scalar.value == 0x1A
    }
}

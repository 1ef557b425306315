import FlightlogWire
import GRDB
import GRDBSQLite
import Synchronization

/// SQLite's `unicode61` tokenizer, the full-text index's, outside any index: the tokens it finds in a line as FTS5
/// stores them (case folded, diacritics removed). A store without FTS5 (PostgreSQL) keeps a Bloom filter of each
/// batch's line tokens (``TokenBloom``) to find the batches a `--match` can match, and confirms the events there
/// with FTS5 itself (``EventRecordFilter``). Used by one task at a time: a store hands them out from a pool
/// (``LineTokenizerPool``), which is what the unchecked `Sendable` promises.
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

    /// Adds the ``TokenBloom/hash(_:)`` of each token of `line` (as the indexer decodes it) to `hashes`. ASCII is
    /// tokenized here (unicode61 keeps runs of ASCII letters and digits, letters folded to lower case); anything
    /// else through SQLite's tokenizer, its tokens hashed in its callback (no `String` per token): ~0.3 µs for a
    /// 200-byte line instead of ~12 µs through GRDB's `tokenize(document:)`.
    public func addTokenHashes(of line: UnsafeBufferPointer<UInt8>, to hashes: inout Set<UInt64>) {
        if UTF8Text.isASCII(line) {
            var hash = TokenBloom.offsetBasis
            var inToken = false
            for byte in line {
                let folded = byte | 0x20
                if (folded >= 0x61 && folded <= 0x7A) || (byte >= 0x30 && byte <= 0x39) {
                    hash = TokenBloom.step(hash, (byte >= 0x41 && byte <= 0x5A) ? folded : byte)
                    inToken = true
                } else if inToken {
                    hashes.insert(hash)
                    hash = TokenBloom.offsetBasis
                    inToken = false
                }
            }
            if inToken { hashes.insert(hash) }
            return
        }
        // The indexer indexes the line decoded as UTF-8, invalid bytes replaced.
        var text = String(decoding: line, as: UTF8.self)
        text.withUTF8 { bytes in
            withUnsafeMutablePointer(to: &hashes) { context in
                _ = bytes.withMemoryRebound(to: CChar.self) { chars in
                    self.tokenizer.tokenize(
                        context: UnsafeMutableRawPointer(context),
                        tokenization: .document,
                        pText: chars.baseAddress,
                        nText: CInt(chars.count),
                        tokenCallback: { context, _, token, length, _, _ in
                            guard let context, let token else { return SQLITE_OK }
                            let hashes = context.assumingMemoryBound(to: Set<UInt64>.self)
                            let bytes = UnsafeRawBufferPointer(start: token, count: Int(max(0, length)))
                            hashes.pointee.insert(TokenBloom.hash(bytes))
                            return SQLITE_OK
                        }
                    )
                }
            }
        }
    }

    /// The tokens of a phrase or bareword of an FTS5 query.
    func queryTokens(_ text: String) -> [String] {
        ((try? self.tokenizer.tokenize(query: text)) ?? []).map(\.token)
    }
}

/// A Bloom filter of a batch's line tokens: ten bits a distinct token, seven of them set for each (about one false
/// positive in a hundred for a token the batch does not have, and never a false negative). PostgreSQL keeps one
/// per batch (`batches.token_bloom`) and tests it with `get_bit`, whose bit `n` is bit `n % 8` (from the least
/// significant) of byte `n / 8`; a token's bits are `(h1 + i × h2) mod m` for `i` in 0..<7, from its FNV-1a hash.
public enum TokenBloom {
    public static let bitsPerToken = 10
    public static let probes = 7
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    @inline(__always)
    static func step(_ hash: UInt64, _ byte: UInt8) -> UInt64 { (hash ^ UInt64(byte)) &* Self.prime }

    /// FNV-1a of a token's bytes as FTS5 holds it.
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(Self.offsetBasis) { Self.step($0, $1) }
    }

    /// The two 31-bit halves the probes are made of (small enough that `h1 + 6 × h2` fits a signed 64-bit integer
    /// in SQL).
    public static func halves(_ hash: UInt64) -> (h1: Int64, h2: Int64) {
        (Int64(hash & 0x7FFF_FFFF), Int64((hash >> 32) & 0x7FFF_FFFF) | 1)
    }

    /// The filter of `hashes`: at least 64 bits, a whole number of bytes.
    public static func make(_ hashes: Set<UInt64>) -> [UInt8] {
        let bits = max(64, (hashes.count * Self.bitsPerToken + 7) / 8 * 8)
        var filter = [UInt8](repeating: 0, count: bits / 8)
        for hash in hashes {
            let (h1, h2) = Self.halves(hash)
            for probe in 0..<Int64(Self.probes) {
                let bit = Int((h1 + probe * h2) % Int64(bits))
                filter[bit / 8] |= 1 << UInt8(bit % 8)
            }
        }
        return filter
    }

    /// Whether `filter` may hold the token of `hash` (false: it certainly does not).
    public static func mayContain(_ filter: [UInt8], _ hash: UInt64) -> Bool {
        let bits = Int64(filter.count * 8)
        guard bits > 0 else { return false }
        let (h1, h2) = Self.halves(hash)
        return (0..<Int64(Self.probes)).allSatisfy { probe in
            let bit = Int((h1 + probe * h2) % bits)
            return filter[bit / 8] & (1 << UInt8(bit % 8)) != 0
        }
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

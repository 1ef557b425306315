import GRDB
import GRDBSQLite

#if canImport(Glibc)
import Glibc
#endif

/// `sigma_contains_any(value, patterns)`: 1 when `value` (text or blob) holds one of `patterns` anywhere, ASCII
/// letters compared without case, a `*` in a pattern standing for any run of characters; 0 when it holds none; NULL
/// when `value` is NULL. `patterns` is one text, the patterns separated by newlines.
///
/// For patterns ``accepts(_:)`` takes (ASCII, no newline, not empty), that is what `value LIKE '%p%' ESCAPE '\'`
/// OR-ed over the patterns says (with `%`, `_` and `\` of a pattern escaped, and `*` written `%`): SQLite's `LIKE`
/// folds the case of ASCII letters only, and an ASCII byte of UTF-8 text is always a whole character, so a byte
/// search finds the same. One difference, on purpose: `LIKE` reads text up to its first NUL byte, so a keyword
/// written after a NUL was not found; here the whole value is searched, as Sigma's reference evaluator does.
///
/// What it saves: a Sigma keyword list (SigmaHQ's shell, buffer-overflow and ClamAV rules list dozens of keywords
/// each) was one `LIKE` per keyword, each reading the event's line from its batch and scanning it again; here the
/// line is read once and scanned once per rule, each position compared only with the patterns that start with its
/// letter. The patterns are compiled once per connection (``PatternSetCache``).
enum SubstringSetFunction {
    static let name = "sigma_contains_any"
    static let separator = UInt8(ascii: "\n")
    /// Sigma's `*` in a pattern: any run of characters.
    static let wildcard = UInt8(ascii: "*")

    /// Whether `text` can be one of the patterns.
    static func accepts(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 < 0x80 && $0 != Self.separator }
    }

    /// The second argument for `patterns` (each one ``accepts(_:)`` takes).
    static func argument(_ patterns: [String]) -> String {
        patterns.joined(separator: "\n")
    }

    /// Registers `sigma_contains_any` on `db`, compiling its patterns into `patternSets` (the connection's own).
    static func register(_ db: Database, patternSets: PatternSetCache) throws {
        let code = sqlite3_create_function_v2(
            db.sqliteConnection,
            Self.name,
            2,
            SQLITE_UTF8 | SQLITE_DETERMINISTIC,
            Unmanaged.passRetained(patternSets).toOpaque(),
            Self.implementation,
            nil,
            nil,
            Self.release
        )
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot register \(Self.name)")
        }
    }

    private static let implementation:
        @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void = {
            context,
            count,
            arguments in
            guard let arguments, count == 2, let value = arguments[0], let data = sqlite3_user_data(context) else {
                return
            }
            guard sqlite3_value_type(value) != SQLITE_NULL else {
                sqlite3_result_null(context)
                return
            }
            let set = Unmanaged<PatternSetCache>.fromOpaque(data).takeUnretainedValue().set(arguments[1])
            sqlite3_result_int(context, Self.withBytes(value) { set.found(in: $0) } ? 1 : 0)
        }

    private static let release: @convention(c) (UnsafeMutableRawPointer?) -> Void = { data in
        guard let data else { return }
        Unmanaged<PatternSetCache>.fromOpaque(data).release()
    }

    /// One connection's compiled pattern sets, found by the address of the argument's text first.
    ///
    /// Not SQLite's auxiliary data: `sqlite3_get_auxdata` searches a list of every call site of the statement, and a
    /// pass of SigmaHQ's 122 process_creation rules has hundreds (9 % of its time went there). Unchecked `Sendable`
    /// for the reason ``BatchContentCache`` is: one connection, one statement step at a time.
    final class PatternSetCache: @unchecked Sendable {
        /// Recent arguments by their text's address; the text is compared before a set is used. A pass of 64
        /// SigmaHQ process_creation rules binds hundreds of sets: 4,096 slots keep most of them apart.
        private var recent = [PatternSet?](repeating: nil, count: 4_096)
        private var recentAddress = [UnsafeRawPointer?](repeating: nil, count: 4_096)
        private var compiled: [[UInt8]: PatternSet] = [:]

        /// The set an argument's text compiles to.
        func set(_ argument: OpaquePointer?) -> PatternSet {
            let text = sqlite3_value_text(argument)
            let bytes = UnsafeRawBufferPointer(start: text, count: text == nil ? 0 : Int(sqlite3_value_bytes(argument)))
            let address = UInt(bitPattern: bytes.baseAddress)
            let slot = Int(truncatingIfNeeded: (address >> 3) ^ (address >> 15)) & 4_095
            if self.recentAddress[slot] == bytes.baseAddress, let set = self.recent[slot], set.isCompiled(from: bytes) {
                return set
            }
            let source = Array(bytes)
            let set: PatternSet
            if let known = self.compiled[source] {
                set = known
            } else {
                // Bounded: a long-lived connection may see many rule sets.
                if self.compiled.count >= 4_096 { self.compiled.removeAll() }
                set = PatternSet(source)
                self.compiled[source] = set
            }
            self.recent[slot] = set
            self.recentAddress[slot] = bytes.baseAddress
            return set
        }
    }

    /// Calls `body` with the bytes of `value`: a blob's, or the text of anything else.
    static func withBytes<T>(_ value: OpaquePointer, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        if sqlite3_value_type(value) == SQLITE_BLOB {
            let bytes = sqlite3_value_blob(value)
            let length = Int(sqlite3_value_bytes(value))
            return body(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : length))
        }
        let bytes = sqlite3_value_text(value)
        let length = Int(sqlite3_value_bytes(value))
        return body(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : length))
    }

    /// ASCII letters to lower case, every other byte to itself.
    static let folded: [UInt8] = (0...255).map { byte in
        UInt8(ascii: "A") <= byte && byte <= UInt8(ascii: "Z") ? UInt8(byte) + 32 : UInt8(byte)
    }

    /// The patterns, folded, grouped by their first byte.
    final class PatternSet {
        /// The patterns' bytes after their first, one after the other, in order of their first byte.
        private let tails: [UInt8]
        /// Pattern `k`'s tail is `tails[tailStart[k]..<tailStart[k + 1]]`.
        private let tailStart: [Int]
        /// The patterns starting with byte `b` are `first[b]..<first[b + 1]`.
        private let first: [Int]
        /// Pattern `k`'s parts after a `*`, in order (empty for a pattern without one).
        private let later: [[[UInt8]]]
        /// Whether an empty pattern is among them (it is found in any value).
        let hasEmpty: Bool
        /// The patterns other than empty ones, each its parts between `*`s, folded: what ``SubstringMemo`` searches
        /// for all sets at once.
        let patterns: [[[UInt8]]]
        /// Where each ``SubstringMemo`` (by its ``SubstringMemo/slot``) holds this set: the memo's generation, the
        /// range of its patterns there, and the row it was last asked about.
        var memoEntries = [SubstringMemo.Entry](repeating: SubstringMemo.Entry(), count: SubstringMemo.slots)

        /// The argument the set was compiled from.
        private let source: [UInt8]

        /// Whether `text` is the argument this set was compiled from.
        func isCompiled(from text: UnsafeRawBufferPointer) -> Bool {
            guard self.source.count == text.count else { return false }
            return self.source.withUnsafeBytes { mine in
                guard let mine = mine.baseAddress, let theirs = text.baseAddress else { return true }
                return memcmp(mine, theirs, text.count) == 0
            }
        }

        init(_ argument: [UInt8]) {
            self.source = argument
            // A pattern is its parts between `*`s, each to be found after the one before; `**` is one `*`.
            var patterns = argument.split(separator: SubstringSetFunction.separator, omittingEmptySubsequences: false)
                .map { pattern in
                    pattern.split(separator: SubstringSetFunction.wildcard).map {
                        $0.map { SubstringSetFunction.folded[Int($0)] }
                    }
                }
            self.hasEmpty = patterns.contains { $0.isEmpty }
            patterns.removeAll { $0.isEmpty }
            patterns.sort { $0[0][0] < $1[0][0] }
            var tails: [UInt8] = []
            var tailStart: [Int] = [0]
            var first = [Int](repeating: 0, count: 257)
            for pattern in patterns {
                first[Int(pattern[0][0]) + 1] += 1
                tails += pattern[0].dropFirst()
                tailStart.append(tails.count)
            }
            for byte in 0..<256 { first[byte + 1] += first[byte] }
            self.tails = tails
            self.tailStart = tailStart
            self.first = first
            self.later = patterns.map { Array($0.dropFirst()) }
            self.patterns = patterns
        }

        /// Whether `parts` occur in `bytes` one after the other from `start` on (the leftmost place of each is the
        /// best for the next, so a greedy search is exact).
        static func found(_ parts: [[UInt8]], in bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
            var position = start
            for part in parts {
                guard let end = Self.end(of: part, in: bytes, from: position) else { return false }
                position = end
            }
            return true
        }

        /// Where the first occurrence of `part` at or after `start` ends, ASCII letters folded.
        private static func end(of part: [UInt8], in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
            let fold = SubstringSetFunction.folded
            var position = start
            while position + part.count <= bytes.count {
                var offset = 0
                while offset < part.count, fold[Int(bytes[position + offset])] == part[offset] { offset += 1 }
                if offset == part.count { return position + part.count }
                position += 1
            }
            return nil
        }

        /// Whether some pattern occurs in `bytes`, ASCII letters folded.
        func found(in bytes: UnsafeRawBufferPointer) -> Bool {
            if self.hasEmpty { return true }
            return SubstringSetFunction.folded.withUnsafeBufferPointer { fold in
                self.tails.withUnsafeBufferPointer { tails in
                    self.tailStart.withUnsafeBufferPointer { tailStart in
                        self.first.withUnsafeBufferPointer { first in
                            let count = bytes.count
                            var position = 0
                            while position < count {
                                let byte = Int(fold[Int(bytes[position])])
                                var pattern = first[byte]
                                let end = first[byte + 1]
                                while pattern < end {
                                    let start = tailStart[pattern]
                                    let length = tailStart[pattern + 1] - start
                                    if length < count - position {
                                        var offset = 0
                                        while offset < length,
                                            fold[Int(bytes[position + 1 + offset])] == tails[start + offset]
                                        {
                                            offset += 1
                                        }
                                        if offset == length,
                                            self.later[pattern].isEmpty
                                                || Self.found(
                                                    self.later[pattern],
                                                    in: bytes,
                                                    from: position + 1 + length
                                                )
                                        {
                                            return true
                                        }
                                    }
                                    pattern += 1
                                }
                                position += 1
                            }
                            return false
                        }
                    }
                }
            }
        }
    }
}

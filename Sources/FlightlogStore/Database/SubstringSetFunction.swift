import GRDB
import GRDBSQLite

/// `sigma_contains_any(value, patterns)`: 1 when `value` (text or blob) holds one of `patterns` anywhere, ASCII
/// letters compared without case, a `*` in a pattern standing for any run of characters; 0 when it holds none; NULL
/// when `value` is NULL. `patterns` is one text, the patterns separated by newlines.
///
/// For patterns ``accepts(_:)`` takes (ASCII, no newline, not empty), that is what `value LIKE '%p%' ESCAPE '\'`
/// OR-ed over the patterns says (with `%`, `_` and `\` of a pattern escaped, and `*` written `%`): SQLite's `LIKE` folds the case of ASCII
/// letters only, and an ASCII byte of UTF-8 text is always a whole character, so a byte search finds the same. One
/// difference, on purpose: `LIKE` reads text up to its first NUL byte, so a keyword written after a NUL was not
/// found; here the whole value is searched, as Sigma's reference evaluator does. What it saves: a Sigma keyword list (SigmaHQ's shell, buffer-overflow and ClamAV
/// rules list dozens of keywords each) was one `LIKE` per keyword, each reading the event's line from its batch and
/// scanning it again; here the line is read once and scanned once per rule, each position compared only with the
/// patterns that start with its letter. The patterns are compiled once per statement (`sqlite3_set_auxdata`).
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

    static func register(_ db: Database) throws {
        let code = sqlite3_create_function_v2(
            db.sqliteConnection,
            Self.name,
            2,
            SQLITE_UTF8 | SQLITE_DETERMINISTIC,
            nil,
            Self.implementation,
            nil,
            nil,
            nil
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
            guard let arguments, count == 2, let value = arguments[0] else { return }
            guard sqlite3_value_type(value) != SQLITE_NULL else {
                sqlite3_result_null(context)
                return
            }
            let set = Self.patternSet(context, arguments, 1)
            sqlite3_result_int(context, Self.withBytes(value) { set.found(in: $0) } ? 1 : 0)
        }

    /// The compiled patterns of argument `index` (text), kept by SQLite with the statement while the argument stays
    /// the same (a bound parameter: the whole statement).
    static func patternSet(
        _ context: OpaquePointer?,
        _ arguments: UnsafeMutablePointer<OpaquePointer?>,
        _ index: Int32
    ) -> PatternSet {
        if let saved = sqlite3_get_auxdata(context, index) {
            return Unmanaged<PatternSet>.fromOpaque(saved).takeUnretainedValue()
        }
        let text = sqlite3_value_text(arguments[Int(index)])
        let length = Int(sqlite3_value_bytes(arguments[Int(index)]))
        let set = PatternSet(UnsafeBufferPointer(start: text, count: text == nil ? 0 : length))
        // SQLite releases it through `release` when it is done with it; `set` stays valid for this call either way.
        sqlite3_set_auxdata(context, index, Unmanaged.passRetained(set).toOpaque(), Self.release)
        return set
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

    private static let release: @convention(c) (UnsafeMutableRawPointer?) -> Void = { data in
        guard let data else { return }
        Unmanaged<PatternSet>.fromOpaque(data).release()
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
        /// Bit `b0 << 8 | b1` is set when a pattern starts with the bytes `b0 b1`, or with `b0` alone when its first
        /// part is one byte long: most positions of a value are passed over on this test, without visiting patterns.
        private let pairs: [UInt64]
        /// Pattern `k`'s parts after a `*`, in order (empty for a pattern without one).
        private let later: [[[UInt8]]]
        /// Whether an empty pattern is among them (it is found in any value).
        private let hasEmpty: Bool

        init(_ argument: UnsafeBufferPointer<UInt8>) {
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
            var pairs = [UInt64](repeating: 0, count: 65_536 / 64)
            for pattern in patterns {
                let head = pattern[0]
                let seconds = head.count > 1 ? head[1]...head[1] : 0...255
                for second in seconds {
                    let bit = Int(head[0]) << 8 | Int(second)
                    pairs[bit >> 6] |= 1 << UInt64(bit & 63)
                }
                first[Int(head[0]) + 1] += 1
                tails += pattern[0].dropFirst()
                tailStart.append(tails.count)
            }
            for byte in 0..<256 { first[byte + 1] += first[byte] }
            self.tails = tails
            self.tailStart = tailStart
            self.first = first
            self.pairs = pairs
            self.later = patterns.map { Array($0.dropFirst()) }
        }

        /// Whether `parts` occur in `bytes` one after the other from `start` on (the leftmost place of each is the
        /// best for the next, so a greedy search is exact).
        private func found(_ parts: [[UInt8]], in bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
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
                            self.pairs.withUnsafeBufferPointer { pairs in
                                let count = bytes.count
                                var position = 0
                                while position < count {
                                    let byte = Int(fold[Int(bytes[position])])
                                    // The byte after (0 past the end, which only a one-byte first part lets through).
                                    let next = position + 1 < count ? Int(fold[Int(bytes[position + 1])]) : 0
                                    let bit = byte << 8 | next
                                    guard pairs[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else {
                                        position += 1
                                        continue
                                    }
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
                                                    || self.found(
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
}

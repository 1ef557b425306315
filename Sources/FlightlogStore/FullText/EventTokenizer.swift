import Dispatch
import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// What the full-text index must hold for one event: its token count and the sum of its tokens' keyed digests (see
/// ``FullTextCheck``), for the line and for the `program` and `fields` columns.
struct EventTokens: Sendable {
    var line: (count: Int32, digest: UInt64)
    var attributes: (count: Int32, digest: UInt64)

    /// The whole document's: every column's tokens.
    var count: Int32 { self.line.count + self.attributes.count }
    var digest: UInt64 { self.line.digest &+ self.attributes.digest }
}

/// Tokenizes authentic events as the full-text indexer did, as SQLite's own `unicode61` tokenizer does: ASCII text
/// in Swift (see `tokenizeASCII`), anything else through that tokenizer's C callback (no `String` per token). The
/// line as the indexer decodes it, and `program` plus ``FieldsDocument`` of the fields. One per thread: the tokenizer
/// and the buffers are its own.
final class EventTokenizer {
    private let tokenizer: any FTS5Tokenizer
    /// Reused for lines that are not valid UTF-8 (the indexer indexes them with invalid bytes replaced).
    private var repaired: [UInt8] = []
    /// Reused for each event's attribute text.
    private var attributes: [UInt8] = []

    init(_ tokenizer: any FTS5Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// The tokens of event `entry` of `layout`, whose `program` is `program` (see ``IndexedSpans``).
    func tokens(_ layout: EventLayout, _ entry: EventLayout.Entry, program: EventLayout.Span?) -> EventTokens {
        // The line: the indexer indexes `String(decoding: line, as: UTF8.self)`, the same bytes when valid UTF-8.
        var fold = Fold()
        layout.withBytes(entry.line) { line in
            if UTF8Text.isValid(line) {
                self.tokenize(line, column: 0, into: &fold)
            } else {
                self.repaired.removeAll(keepingCapacity: true)
                self.repaired.append(contentsOf: String(decoding: line, as: UTF8.self).utf8)
                self.repaired.withUnsafeBufferPointer { self.tokenize($0, column: 0, into: &fold) }
            }
        }
        let line = (fold.count, fold.digest)
        // The attributes: `program` in column 1, the fields' text in column 2.
        fold = Fold()
        if let program {
            layout.withBytes(program) { self.tokenize($0, column: 1, into: &fold) }
        }
        FieldsDocument.append(layout, entry, to: &self.attributes)
        self.attributes.withUnsafeBufferPointer { self.tokenize($0, column: 2, into: &fold) }
        return EventTokens(line: line, attributes: (fold.count, fold.digest))
    }

    /// What the tokenizer's callback folds the tokens of one column of one event into.
    private struct Fold {
        var digest: UInt64 = 0
        var count: Int32 = 0
        /// The position of the next token within the current column.
        var offset = 0
        var column = 0
        let keys = FullTextCheck.TokenKey.keys
    }

    /// Whether ASCII text is tokenized here rather than by SQLite (false only in tests comparing the two).
    var asciiFastPath = true

    private func tokenize(_ bytes: UnsafeBufferPointer<UInt8>, column: Int, into fold: inout Fold) {
        fold.column = column
        fold.offset = 0
        guard !bytes.isEmpty else { return }
        if self.asciiFastPath, UTF8Text.isASCII(bytes) {
            self.tokenizeASCII(bytes, into: &fold)
            return
        }
        withUnsafeMutablePointer(to: &fold) { context in
            _ = bytes.withMemoryRebound(to: CChar.self) { text in
                self.tokenizer.tokenize(
                    context: UnsafeMutableRawPointer(context),
                    tokenization: .document,
                    pText: text.baseAddress,
                    nText: CInt(text.count),
                    tokenCallback: { context, flags, token, length, _, _ in
                        guard let context else { return SQLITE_OK }
                        let fold = context.assumingMemoryBound(to: Fold.self)
                        // Synonyms (colocated tokens) share their position; unicode61 makes none.
                        guard flags & FTS5_TOKEN_COLOCATED == 0 else { return SQLITE_OK }
                        let term = UnsafeRawBufferPointer(start: token, count: Int(max(0, length)))
                        fold.pointee.digest &+= FullTextCheck.digest(
                            term,
                            FullTextCheck.position(column: fold.pointee.column, offset: fold.pointee.offset),
                            keys: fold.pointee.keys
                        )
                        fold.pointee.offset += 1
                        fold.pointee.count += 1
                        return SQLITE_OK
                    }
                )
            }
        }
    }
}

extension EventTokenizer {
    /// `unicode61`'s tokens of ASCII text, folded without a call into SQLite per event and per token: for ASCII,
    /// its default tokenizer keeps runs of letters and digits (everything else separates) and folds letters to
    /// lower case; nothing else applies (diacritics and the Unicode categories concern only other characters).
    /// Tests hold this equal to SQLite's tokenizer on random ASCII text.
    private func tokenizeASCII(_ bytes: UnsafeBufferPointer<UInt8>, into fold: inout Fold) {
        guard let base = bytes.baseAddress else { return }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        let keys = fold.keys
        var digest = fold.digest
        var tokens = fold.count
        var offset = fold.offset
        var index = 0
        while index < count {
            let start = Self.next(token: true, from: index, in: bytes)
            guard start < count else { break }
            index = Self.next(token: false, from: start + 1, in: bytes)
            let length = index - start
            let state = FullTextCheck.termState(
                count: length,
                keys: keys,
                word: { Self.lowercased(raw.loadUnaligned(fromByteOffset: start + $0, as: UInt64.self)) },
                tail: { at in
                    let remaining = length - at
                    // Eight bytes from the tail's start when they are all inside the text, the ones past the token
                    // masked off; else byte by byte.
                    if start + at + 8 <= count {
                        let mask: UInt64 = (1 << (UInt64(remaining) * 8)) &- 1
                        return Self.lowercased(raw.loadUnaligned(fromByteOffset: start + at, as: UInt64.self) & mask)
                    }
                    var tail: UInt64 = 0
                    for offset in 0..<remaining { tail |= UInt64(base[start + at + offset]) << (UInt64(offset) * 8) }
                    return Self.lowercased(tail)
                }
            )
            digest &+= FullTextCheck.digest(
                termState: state,
                FullTextCheck.position(column: fold.column, offset: offset),
                keys: keys
            )
            offset += 1
            tokens += 1
        }
        fold.digest = digest
        fold.count = tokens
        fold.offset = offset
    }

    /// The first index at or after `from` whose byte is (`token`) or is not a letter or digit, or the end. Eight
    /// bytes are classified at once: a byte-by-byte loop mispredicted a branch at nearly every token boundary.
    @inline(__always)
    private static func next(token: Bool, from: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var index = from
        let count = bytes.count
        if let base = bytes.baseAddress {
            while index + 8 <= count {
                let tokenBytes = Self.tokenBytes(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                let wanted = token ? tokenBytes : ~tokenBytes & 0x8080_8080_8080_8080
                // Little-endian: the lowest set byte is the first in the text.
                if wanted != 0 { return index + wanted.trailingZeroBitCount / 8 }
                index += 8
            }
        }
        while index < count, Self.isTokenByte(bytes[index]) != token { index += 1 }
        return index
    }

    /// Bit 7 set in each of 8 ASCII bytes that is a letter or a digit, nothing else. For bytes below 0x80,
    /// `byte + (0x80 − low)` has bit 7 set exactly when `byte ≥ low`, and no sum carries into the next byte.
    @inline(__always)
    static func tokenBytes(_ loaded: UInt64) -> UInt64 {
        let word = UInt64(littleEndian: loaded)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let folded = word | (0x20 &* ones)
        let letter = (folded &+ (0x80 - 0x61) &* ones) & ~(folded &+ (0x80 - 0x7b) &* ones)
        let digit = (word &+ (0x80 - 0x30) &* ones) & ~(word &+ (0x80 - 0x3a) &* ones)
        return (letter | digit) & high
    }

    /// Eight ASCII bytes (little-endian, as loaded on this machine) with `A`…`Z` folded to `a`…`z`; zero bytes
    /// stay zero. No byte is 0x80 or above, so no sum carries into the next.
    @inline(__always)
    private static func lowercased(_ loaded: UInt64) -> UInt64 {
        let word = UInt64(littleEndian: loaded)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let atLeastA = (word &+ (0x80 - 0x41) &* ones) & (0x80 &* ones)
        let pastZ = (word &+ (0x80 - 0x5b) &* ones) & (0x80 &* ones)
        return word | ((atLeastA & ~pastZ) >> 2)
    }

    /// An ASCII letter or digit.
    @inline(__always)
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- 0x61 < 26 || byte &- 0x30 < 10
    }
}

/// ``EventTokenizer``s for the threads that examine batches in parallel: one is lent to a thread for a batch at a
/// time, so no two threads ever share one.
///
/// Made on the verifying connection's thread (a tokenizer comes from the connection's FTS5 module) and used while
/// that connection stays open. `unicode61` reads only its own state while tokenizing, never the connection.
final class EventTokenizers: @unchecked Sendable {
    private let lock = NSLock()
    private let available: DispatchSemaphore
    private var idle: [EventTokenizer]

    init(db: Database) throws {
        // Enough for every thread that can examine a batch at once (several runs are in flight, each spread over
        // the cores): a tokenizer is a few hundred bytes.
        let count = max(8, 2 * ProcessInfo.processInfo.activeProcessorCount + 2)
        self.idle = try (0..<count).map { _ in EventTokenizer(try db.makeTokenizer(.unicode61())) }
        self.available = DispatchSemaphore(value: count)
    }

    /// Runs `body` with a tokenizer no other thread uses meanwhile (waiting for one if all are lent).
    func withTokenizer<T>(_ body: (EventTokenizer) -> T) -> T {
        self.available.wait()
        defer { self.available.signal() }
        // The semaphore guarantees one is idle.
        let tokenizer = self.lock.withLock { self.idle.removeLast() }
        defer { self.lock.withLock { self.idle.append(tokenizer) } }
        return body(tokenizer)
    }
}

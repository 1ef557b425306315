import Dispatch
import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// Checks the contentless FTS5 index `events_fts` against each event's authentic text (decoded from its signed
/// batch, not the possibly edited row).
///
/// A contentless table keeps no text, only its inverted index, and a `MATCH` query per row and token would cost a
/// query per token. Instead:
///
/// - **Full runs** read the whole index once, sequentially, through the `events_fts_instance` fts5vocab table
///   (one row per token instance: term, document = row id, offset), folding each instance into a per-row count and
///   an order-independent digest: the wrapping sum of a keyed hash of (term bytes, offset) (``digest(_:_:keys:)``), whose
///   keys are drawn at random per process, so nobody can prepare a colliding index in advance. The scan runs on its own
///   read-only connection to the index file, on another thread, while the batch-and-row pass runs (see
///   ``IndexScan``). The expected count and digest come from tokenizing the authentic line with SQLite's own
///   `unicode61` tokenizer, the tokenizer that built the index, through its C callback (no `String` per token).
///   Cost: one scan of the index plus one tokenization per event; memory: 12 bytes per event id, twice.
///   Catches missing, extra, re-indexed and substituted entries, and entries for rows that do not exist.
/// - **Scoped and incremental runs** compare each checked row's token count with `events_fts_docsize` (a
///   primary-key look-up per row), and look for index documents past the last clean run that no event owns. This
///   catches rows missing from or added to the index and re-indexed text of another length, not a same-length
///   substitution: the next full run does.
///
/// The index trails the commit (see ``FullTextIndexer``): only rows up to the indexer's committed watermark are
/// expected in it; rows past it are not checked (the report carries the lag instead), but documents past it are
/// still findings, since the indexer never writes past its own watermark.
struct FullTextCheck {
    private let tokenizer: any FTS5Tokenizer
    /// Every event up to this id is in the index (the watermark the pass's own snapshot sees).
    var indexedThrough: Int64 = .max
    /// The last event id of the checked snapshot. The index is read in its own snapshot, which may hold documents
    /// for events committed after this one: those are not findings.
    var latestEventID: Int64 = .max

    /// Whether a document for `id`, which is no event of the snapshot, is legitimately in the index whose
    /// watermark is `watermark`.
    private func committedAfterSnapshot(_ id: Int64, watermark: Int64) -> Bool {
        id > self.latestEventID && id <= watermark
    }
    /// Per event id (index = id − 1): expected token count, −1 not an event, −2 not checked (unauthenticated).
    private var expectedCount: [Int32] = []
    private var expectedDigest: [UInt64] = []
    /// Ids too far past the others to index an array with (only a tampered database has them).
    private var sparse: [Int64: (count: Int32, digest: UInt64)] = [:]
    /// Reused for lines that are not valid UTF-8 (the indexer indexes them with invalid bytes replaced).
    private var repaired: [UInt8] = []

    private static let notEvent: Int32 = -1
    private static let unchecked: Int32 = -2

    init(db: Database) throws {
        self.tokenizer = try db.makeTokenizer(.unicode61())
    }

    /// The keyed hash of one token instance: its bytes as the index stores them, then its position.
    ///
    /// Two 64-bit keys drawn from the system's random generator once per process, so that nobody can prepare an
    /// index whose digests collide with the authentic ones in advance; each 8-byte word of the term is folded in
    /// with a full-width multiply (the `mum` step of wyhash), which costs a few nanoseconds where SipHash (Swift's
    /// `Hasher`) cost about forty: a full run hashes every token instance twice.
    @inline(__always)
    static func digest(_ term: UnsafeRawBufferPointer, _ offset: Int, keys: (UInt64, UInt64)) -> UInt64 {
        let (k0, k1) = keys
        var state = k0 ^ UInt64(term.count) &* 0x9e37_79b9_7f4a_7c15
        var position = 0
        while position + 8 <= term.count {
            let word = UInt64(littleEndian: term.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            state = Self.mum(word ^ k1, state ^ k0)
            position += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while position < term.count {
            tail |= UInt64(term[position]) << shift
            shift += 8
            position += 1
        }
        state = Self.mum(tail ^ k1, state ^ 0xa076_1d64_78bd_642f)
        return Self.mum(UInt64(bitPattern: Int64(offset)) ^ k0, state ^ k1)
    }

    /// The 128-bit product of `a` and `b`, folded to 64 bits.
    @inline(__always)
    private static func mum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// The per-process keys of ``digest(_:_:keys:)``.
    enum TokenKey {
        static let keys: (UInt64, UInt64) = {
            var generator = SystemRandomNumberGenerator()
            // Odd keys: a zero factor would make every later word vanish from the state.
            return (generator.next() | 1, generator.next() | 1)
        }()
    }

    private mutating func slot(_ id: Int64) -> Int? {
        guard id >= 1 else { return nil }
        let index = Int(id - 1)
        if index < self.expectedCount.count { return index }
        guard index < self.expectedCount.count + (1 << 20) else { return nil }
        let grow = index + 1 - self.expectedCount.count
        self.expectedCount.append(contentsOf: repeatElement(Self.notEvent, count: grow))
        self.expectedDigest.append(contentsOf: repeatElement(0, count: grow))
        return index
    }

    /// What the tokenizer's callback folds the tokens of one line into.
    private struct Fold {
        var digest: UInt64 = 0
        var count = 0
        let keys = TokenKey.keys
    }

    /// Records what the index must hold for event `id`, whose authentic raw line is `line`.
    mutating func expect(id: Int64, line: [UInt8]) {
        guard id <= self.indexedThrough else {
            self.skip(id: id)
            return
        }
        var fold = Fold()
        // The indexer indexes `String(decoding: line, as: UTF8.self)`: the same bytes when they are valid UTF-8.
        let valid = line.allSatisfy { $0 < 0x80 } || String(validating: line, as: UTF8.self) != nil
        if !valid {
            self.repaired.removeAll(keepingCapacity: true)
            self.repaired.append(contentsOf: String(decoding: line, as: UTF8.self).utf8)
        }
        let tokenizer = self.tokenizer
        func tokenize(_ bytes: UnsafeBufferPointer<UInt8>) {
            withUnsafeMutablePointer(to: &fold) { context in
                _ = bytes.withMemoryRebound(to: CChar.self) { text in
                    tokenizer.tokenize(
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
                                fold.pointee.count,
                                keys: fold.pointee.keys
                            )
                            fold.pointee.count += 1
                            return SQLITE_OK
                        }
                    )
                }
            }
        }
        if valid {
            line.withUnsafeBufferPointer(tokenize)
        } else {
            self.repaired.withUnsafeBufferPointer(tokenize)
        }
        if let index = self.slot(id) {
            self.expectedCount[index] = Int32(fold.count)
            self.expectedDigest[index] = fold.digest
        } else {
            self.sparse[id] = (Int32(fold.count), fold.digest)
        }
    }

    /// Marks event `id` as not checkable (its batch is not authentic).
    mutating func skip(id: Int64) {
        if let index = self.slot(id) {
            self.expectedCount[index] = Self.unchecked
        } else {
            self.sparse[id] = (Self.unchecked, 0)
        }
    }

    private func expectation(_ id: Int64) -> (count: Int32, digest: UInt64) {
        if id >= 1, Int(id - 1) < self.expectedCount.count {
            return (self.expectedCount[Int(id - 1)], self.expectedDigest[Int(id - 1)])
        }
        return self.sparse[id] ?? (Self.notEvent, 0)
    }

    // MARK: - Full

    /// What one sequential read of the whole index found: a token count and digest per document id.
    ///
    /// ``start(databasePath:)`` reads on its own read-only connection to the index file, on another thread, so that
    /// the scan overlaps the batch-and-row pass; ``result()`` waits for it. Its snapshot is its own: it reads the
    /// watermark in the same transaction as the documents, and may see documents for events the pass's snapshot does
    /// not have yet (``committedAfterSnapshot(_:watermark:)``).
    final class IndexScan: @unchecked Sendable {
        struct Documents {
            /// The indexer's watermark in the scanned snapshot.
            var watermark: Int64 = 0
            /// Per document id (index = id − 1).
            var count: [Int32] = []
            var digest: [UInt64] = []
            /// Ids too far past the others to index an array with (only a tampered index has them).
            var extra: [Int64: (count: Int32, digest: UInt64)] = [:]
        }

        private let done = DispatchSemaphore(value: 0)
        /// Written by the scanning thread before it signals `done`, read after waiting on it.
        private var outcome: Result<Documents, any Error> = .success(Documents())

        /// Starts scanning the index file at `path`; `expectedDocuments` sizes the arrays.
        init(path: String, expectedDocuments: Int) {
            DispatchQueue.global().async {
                self.outcome = Result { try Self.scan(path: path, expectedDocuments: expectedDocuments) }
                self.done.signal()
            }
        }

        /// Waits for the scan; what it found, or why it could not run.
        func result() throws -> Documents {
            self.done.wait()
            return try self.outcome.get()
        }

        private static func scan(path: String, expectedDocuments: Int) throws -> Documents {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.label = "flightlog-verify-fts"
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                var documents = Documents()
                documents.watermark = try Int64.fetchOne(db, sql: "SELECT indexed_through FROM fts_progress") ?? 0
                let size = max(0, min(expectedDocuments, Int(clamping: documents.watermark)))
                var count = [Int32](repeating: 0, count: size)
                var digest = [UInt64](repeating: 0, count: size)
                let keys = TokenKey.keys
                let statement = try db.makeStatement(sql: "SELECT doc, offset, term FROM events_fts_instance")
                let raw = statement.sqliteStatement
                try count.withUnsafeMutableBufferPointer { count in
                    try digest.withUnsafeMutableBufferPointer { digest in
                        while true {
                            let code = sqlite3_step(raw)
                            guard code == SQLITE_ROW else {
                                if code == SQLITE_DONE { break }
                                throw DatabaseError(
                                    resultCode: ResultCode(rawValue: code),
                                    message: String(cString: sqlite3_errmsg(db.sqliteConnection))
                                )
                            }
                            let doc = sqlite3_column_int64(raw, 0)
                            let offset = Int(sqlite3_column_int64(raw, 1))
                            // The pointer first, then the length (sqlite3_column_bytes after _text does not convert).
                            let text = sqlite3_column_text(raw, 2)
                            let length = Int(sqlite3_column_bytes(raw, 2))
                            let term = UnsafeRawBufferPointer(start: text, count: length)
                            let value = FullTextCheck.digest(term, offset, keys: keys)
                            if doc >= 1, doc <= size {
                                count[Int(doc - 1)] += 1
                                digest[Int(doc - 1)] &+= value
                            } else {
                                documents.extra[doc, default: (0, 0)].count += 1
                                documents.extra[doc, default: (0, 0)].digest &+= value
                            }
                        }
                    }
                }
                documents.count = count
                documents.digest = digest
                return documents
            }
        }
    }

    /// Compares every document the scan found with its expectation, and every expected row with its document.
    func compare(_ documents: IndexScan.Documents, report: (IntegrityFinding) -> Void) {
        let watermark = documents.watermark
        for index in 0..<documents.count.count {
            self.compare(
                id: Int64(index + 1),
                count: documents.count[index],
                digest: documents.digest[index],
                watermark: watermark,
                report: report
            )
        }
        // Expected rows with no slot in the scan's arrays (past its watermark, or ids the arrays do not reach).
        for index in documents.count.count..<self.expectedCount.count {
            let id = Int64(index + 1)
            guard documents.extra[id] == nil else { continue }
            self.compare(id: id, count: 0, digest: 0, watermark: watermark, report: report)
        }
        for (id, actual) in documents.extra.sorted(by: { $0.key < $1.key }) {
            self.compare(id: id, count: actual.count, digest: actual.digest, watermark: watermark, report: report)
        }
        for (id, expected) in self.sparse where expected.count > 0 && documents.extra[id] == nil {
            guard id <= watermark else { continue }
            report(
                IntegrityFinding(
                    .ftsMismatch,
                    rowID: id,
                    "the full-text index holds none of the row's \(expected.count) tokens"
                )
            )
        }
    }

    private func compare(
        id: Int64,
        count: Int32,
        digest: UInt64,
        watermark: Int64,
        report: (IntegrityFinding) -> Void
    ) {
        let expected = self.expectation(id)
        if expected.count == Self.notEvent {
            if count > 0 && !self.committedAfterSnapshot(id, watermark: watermark) {
                report(
                    IntegrityFinding(
                        .ftsOrphan,
                        rowID: id,
                        "the full-text index holds \(count) tokens for a row id that is no event"
                    )
                )
            }
        } else if id > watermark {
            // The indexer never writes past its own watermark.
            if count > 0 {
                report(
                    IntegrityFinding(
                        .ftsOrphan,
                        rowID: id,
                        "the full-text index holds \(count) tokens for a row past the indexer's watermark"
                    )
                )
            }
        } else if expected.count == Self.unchecked {
            return
        } else if count != expected.count {
            report(
                IntegrityFinding(
                    .ftsMismatch,
                    rowID: id,
                    "the full-text index holds \(count) tokens for the row, its authentic line has \(expected.count)"
                )
            )
        } else if digest != expected.digest {
            report(
                IntegrityFinding(
                    .ftsMismatch,
                    rowID: id,
                    "the full-text index holds other tokens than the row's authentic line"
                )
            )
        }
    }

    // MARK: - Scoped

    /// Compares the token count `events_fts_docsize` holds for each checked row, and looks for documents with an id
    /// of at least `lowID` that are no checked event.
    func checkRowSizes(_ db: Database, lowID: Int64, report: (IntegrityFinding) -> Void) throws {
        let size = try db.cachedStatement(sql: "SELECT sz FROM events_fts_docsize WHERE id = ?")
        var ids: [(Int64, Int32)] = []
        for (index, count) in self.expectedCount.enumerated() where count >= 0 { ids.append((Int64(index + 1), count)) }
        for (id, expected) in self.sparse where expected.count >= 0 { ids.append((id, expected.count)) }
        for (id, expected) in ids {
            guard let blob = try Data.fetchOne(size, arguments: [id]) else {
                report(IntegrityFinding(.ftsMismatch, rowID: id, "the row is not in the full-text index"))
                continue
            }
            let stored = Self.varint(Array(blob))
            if stored != Int64(expected) {
                report(
                    IntegrityFinding(
                        .ftsMismatch,
                        rowID: id,
                        "the full-text index sizes the row at \(stored.map(String.init) ?? "?") tokens, its authentic line has \(expected)"
                    )
                )
            }
        }
        let documents = try Int64.fetchCursor(
            db,
            sql: "SELECT id FROM events_fts_docsize WHERE id >= ?",
            arguments: [lowID]
        )
        while let id = try documents.next() {
            guard self.expectation(id).count == Self.notEvent,
                !self.committedAfterSnapshot(id, watermark: self.indexedThrough)
            else { continue }
            report(
                IntegrityFinding(
                    .ftsOrphan,
                    rowID: id,
                    "the full-text index holds a document for a row id that is no event"
                )
            )
        }
    }

    /// SQLite's big-endian base-128 varint (FTS5 sizes), the first one in `bytes`.
    static func varint(_ bytes: [UInt8]) -> Int64? {
        var value: UInt64 = 0
        for (index, byte) in bytes.prefix(9).enumerated() {
            if index == 8 { return Int64(bitPattern: value << 8 | UInt64(byte)) }
            value = value << 7 | UInt64(byte & 0x7f)
            if byte & 0x80 == 0 { return Int64(bitPattern: value) }
        }
        return nil
    }
}

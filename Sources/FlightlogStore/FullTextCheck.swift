import FlightlogWire
import Foundation
import GRDB

/// Checks the contentless FTS5 index `events_fts` against each event's authentic text (decoded from its signed
/// batch, not the possibly edited row).
///
/// A contentless table keeps no text, only its inverted index, and a `MATCH` query per row and token would cost a
/// query per token. Instead:
///
/// - **Full runs** read the whole index once, sequentially, through the `events_fts_instance` fts5vocab table
///   (one row per token instance: term, document = row id, offset), folding each instance into a per-row count and
///   an order-independent digest: the wrapping sum of a keyed hash of (term, offset). The key is Swift's per-process
///   random `Hasher` seed, so nobody can prepare a colliding index in advance. The expected count and digest come
///   from tokenizing the authentic line with SQLite's own `unicode61` tokenizer (through GRDB), the tokenizer that
///   built the index. Cost: one scan of the index plus one tokenization per event; memory: 12 bytes per event id.
///   Catches missing, extra, re-indexed and substituted entries, and entries for rows that do not exist.
/// - **Scoped and incremental runs** compare each checked row's token count with `events_fts_docsize` (a
///   primary-key look-up per row), and look for index documents past the last clean run that no event owns. This
///   catches rows missing from or added to the index and re-indexed text of another length, not a same-length
///   substitution: the next full run does.
///
/// The index trails the commit (see ``FullTextIndexer``): only rows up to the indexer's committed watermark,
/// `indexedThrough`, are expected in it; rows past it are not checked (the report carries the lag instead), but
/// documents past it are still findings, since the indexer never writes past its own watermark.
struct FullTextCheck {
    private let tokenizer: any FTS5Tokenizer
    /// Every event up to this id is in the index.
    var indexedThrough: Int64 = .max
    /// The last event id of the checked snapshot. The index is read in its own (attached) snapshot, which may hold
    /// documents for events committed after this one: those are not findings.
    var latestEventID: Int64 = .max

    /// Whether a document for `id`, which is no event of the snapshot, is legitimately in the index.
    private func committedAfterSnapshot(_ id: Int64) -> Bool {
        id > self.latestEventID && id <= self.indexedThrough
    }
    /// Per event id (index = id − 1): expected token count, −1 not an event, −2 not checked (unauthenticated).
    private var expectedCount: [Int32] = []
    private var expectedDigest: [UInt64] = []
    /// Ids too far past the others to index an array with (only a tampered database has them).
    private var sparse: [Int64: (count: Int32, digest: UInt64)] = [:]

    private static let notEvent: Int32 = -1
    private static let unchecked: Int32 = -2

    init(db: Database) throws {
        self.tokenizer = try db.makeTokenizer(.unicode61())
    }

    static func digest(_ term: String, _ offset: Int) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(term)
        hasher.combine(offset)
        return UInt64(bitPattern: Int64(hasher.finalize()))
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

    /// Records what the index must hold for event `id`, whose authentic raw line is `line`.
    mutating func expect(id: Int64, line: [UInt8]) {
        guard id <= self.indexedThrough else {
            self.skip(id: id)
            return
        }
        let tokens = (try? self.tokenizer.tokenize(document: String(decoding: line, as: UTF8.self))) ?? []
        var digest: UInt64 = 0
        var offset = 0
        for token in tokens where !token.flags.contains(.colocated) {
            digest &+= Self.digest(token.token, offset)
            offset += 1
        }
        if let index = self.slot(id) {
            self.expectedCount[index] = Int32(offset)
            self.expectedDigest[index] = digest
        } else {
            self.sparse[id] = (Int32(offset), digest)
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

    /// Reads the whole index once and compares every document with its expectation.
    func checkIndex(_ db: Database, report: (IntegrityFinding) -> Void) throws {
        var count = [Int32](repeating: 0, count: self.expectedCount.count)
        var digest = [UInt64](repeating: 0, count: self.expectedCount.count)
        var extra: [Int64: (count: Int32, digest: UInt64)] = [:]
        let instances = try Row.fetchCursor(db, sql: "SELECT term, doc, offset FROM events_fts_instance")
        while let row = try instances.next() {
            guard let doc = Int64.fromDatabaseValue(row[1]) else { continue }
            let term = String.fromDatabaseValue(row[0]) ?? ""
            let value = Self.digest(term, Int.fromDatabaseValue(row[2]) ?? -1)
            if doc >= 1, Int(doc - 1) < count.count {
                count[Int(doc - 1)] += 1
                digest[Int(doc - 1)] &+= value
            } else {
                extra[doc, default: (0, 0)].count += 1
                extra[doc, default: (0, 0)].digest &+= value
            }
        }
        for index in 0..<count.count {
            self.compare(id: Int64(index + 1), count: count[index], digest: digest[index], report: report)
        }
        for (id, actual) in extra.sorted(by: { $0.key < $1.key }) {
            self.compare(id: id, count: actual.count, digest: actual.digest, report: report)
        }
        for (id, expected) in self.sparse where expected.count > 0 && extra[id] == nil {
            report(
                IntegrityFinding(
                    .ftsMismatch,
                    rowID: id,
                    "the full-text index holds none of the row's \(expected.count) tokens"
                )
            )
        }
    }

    private func compare(id: Int64, count: Int32, digest: UInt64, report: (IntegrityFinding) -> Void) {
        let expected = self.expectation(id)
        switch expected.count {
        case Self.unchecked:
            if id > self.indexedThrough && count > 0 {
                report(
                    IntegrityFinding(
                        .ftsOrphan,
                        rowID: id,
                        "the full-text index holds \(count) tokens for a row past the indexer's watermark"
                    )
                )
            }
        case Self.notEvent:
            if count > 0 && !self.committedAfterSnapshot(id) {
                report(
                    IntegrityFinding(
                        .ftsOrphan,
                        rowID: id,
                        "the full-text index holds \(count) tokens for a row id that is no event"
                    )
                )
            }
        default:
            if count != expected.count {
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
            guard self.expectation(id).count == Self.notEvent, !self.committedAfterSnapshot(id) else { continue }
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

import FlightlogWire
import Foundation
import GRDB
import GRDBSQLite

/// Checks the contentless FTS5 index `events_fts` against each event's authentic content (decoded from its signed
/// batch, not the possibly edited row): its `line` column (the raw line, for `--match` and keywords) and its
/// `program` and `fields` columns (where hunts find their candidates). Edited, it would hide events from
/// investigators without touching a row.
///
/// A contentless table keeps no text, only its inverted index, and a `MATCH` query per row and token would cost a
/// query per token. Instead:
///
/// - **Full runs** read the index once, sequentially, through its fts5vocab `instance` table (one row per token
///   instance: term, document = row id, column, offset), folding each instance into a per-row count and an
///   order-independent digest: the wrapping sum of a keyed hash of (term bytes, column, offset)
///   (``digest(_:_:keys:)``), whose keys are drawn at random per process, so nobody can prepare a colliding index
///   in advance. The scan runs on its own read-only connection to the index file, on another thread, while the
///   batch-and-row pass runs (see ``IndexScan``). The expected count and digest come from tokenizing the authentic
///   content as SQLite's own `unicode61` tokenizer, the tokenizer that built the index, tokenizes it (see
///   ``EventTokenizer``, on the threads examining batches): the line as the indexer decodes it, and `program` plus
///   ``FieldsDocument`` of the fields. Cost: one scan of the index plus one tokenization per event; memory: 24 bytes
///   per event id.
///   Catches missing, extra, re-indexed and substituted entries, and entries for rows that do not exist.
/// - **Scoped and incremental runs** compare each checked row's token count (its three columns together) with
///   `events_fts_docsize` (a primary-key look-up per row), and look for documents past the last clean run that no
///   event owns. This catches rows missing from or added to the index and re-indexed text of another length, not a
///   same-length substitution: the next full run does.
///
/// The index trails the commit (see ``FullTextIndexer``) up to its watermark: only rows up to it are expected in
/// it; rows past it are not checked (the report carries the lag instead), but documents past it are still
/// findings, since the indexer never writes past its own watermark. An index file in the layout before index-file
/// migration v8 (two tables; only on read-only media, since every writer upgrades it) is not checked, and the report
/// says so through its lag (see ``hasCurrentLayout(_:schema:)``).
struct FullTextCheck {
    /// The FTS5 table in the index file, as findings name it, and what it holds.
    static let table = "events_fts"
    static let name = "the full-text index"
    static let content = "line, program and fields"

    /// Whether an index file is attached as `schema` (or opened as `main`) and has the one table of three columns
    /// of index-file migration v8; an older file (the line in `events_fts`, the rest in `events_attrs`) is not
    /// checked, and a missing one (absent, or left out of the open as unreadable) cannot be.
    static func hasCurrentLayout(_ db: Database, schema: String) throws -> Bool {
        let attached = "SELECT COUNT(*) FROM pragma_database_list WHERE name = ?"
        guard try Int.fetchOne(db, sql: attached, arguments: [schema]) == 1 else { return false }
        return try Int.fetchOne(
            db,
            sql: "SELECT COUNT(*) FROM pragma_table_info('events_fts', ?) WHERE name = 'program'",
            arguments: [schema]
        ) == 1
    }

    /// One tokenizer per thread that computes expectations (see ``EventTokenizers``).
    let tokenizers: EventTokenizers
    /// Which file holds which event.
    var layout = FullTextLayout(splitAfter: .max)
    /// Per file, every event of that file up to this id is in it (the watermarks the pass's own snapshot sees; 0
    /// for a file not checked).
    var watermarks = [Int64](repeating: .max, count: FullTextLayout.fileCount)

    /// The watermark of the file that holds event `id`: only up to it is `id` expected in the index.
    func watermark(of id: Int64) -> Int64 { self.watermarks[self.layout.file(of: id)] }
    /// The last event id of the checked snapshot. The indexes are read in their own snapshot, which may hold
    /// documents for events committed after this one: those are not findings.
    var latestEventID: Int64 = .max

    /// What the index must hold, per event id.
    private var expected = Expectations()

    init(db: Database) throws {
        self.tokenizers = try EventTokenizers(db: db)
    }

    /// Whether a document for `id`, which is no event of the snapshot, is legitimately in the index whose watermark
    /// is `watermark`.
    private func committedAfterSnapshot(_ id: Int64, watermark: Int64) -> Bool {
        id > self.latestEventID && id <= watermark
    }

    // MARK: - Expectations

    /// Records what the index must hold for event `id`: `tokens`, computed from its authentic content.
    mutating func expect(id: Int64, _ tokens: EventTokens) {
        self.expected.set(id, count: tokens.count, digest: tokens.digest)
    }

    /// Marks event `id` as not checkable (its batch is not authentic).
    mutating func skip(id: Int64) {
        self.expected.set(id, count: Expectations.unchecked, digest: 0)
    }

    // MARK: - Digest

    /// A token's column and offset as one number for ``digest(_:_:keys:)``.
    @inline(__always)
    static func position(column: Int, offset: Int) -> Int { column << 40 | offset }

    /// The keyed hash of one token instance: its bytes as the index stores them, then its position.
    ///
    /// Two 64-bit keys drawn from the system's random generator once per process, so that nobody can prepare an
    /// index whose digests collide with the authentic ones in advance; each 8-byte word of the term is folded in
    /// with a full-width multiply (the `mum` step of wyhash), which costs a few nanoseconds where SipHash (Swift's
    /// `Hasher`) cost about forty: a full run hashes every token instance twice.
    @inline(__always)
    static func digest(_ term: UnsafeRawBufferPointer, _ position: Int, keys: (UInt64, UInt64)) -> UInt64 {
        Self.digest(termState: Self.termState(term, keys: keys), position, keys: keys)
    }

    /// ``digest(_:_:keys:)`` from the term's part, which the segment reader computes once per term.
    @inline(__always)
    static func digest(termState: UInt64, _ position: Int, keys: (UInt64, UInt64)) -> UInt64 {
        Self.mum(UInt64(bitPattern: Int64(position)) ^ keys.0, termState ^ keys.1)
    }

    /// The term's part of ``digest(_:_:keys:)``.
    @inline(__always)
    static func termState(_ term: UnsafeRawBufferPointer, keys: (UInt64, UInt64)) -> UInt64 {
        Self.termState(
            count: term.count,
            keys: keys,
            word: { UInt64(littleEndian: term.loadUnaligned(fromByteOffset: $0, as: UInt64.self)) },
            tail: { index in
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                for offset in index..<term.count {
                    tail |= UInt64(term[offset]) << shift
                    shift += 8
                }
                return tail
            }
        )
    }

    /// ``termState(_:keys:)`` of `count` bytes that `word` reads 8 at a time from an offset (little-endian) and
    /// `tail` reads from an offset to the end (fewer than 8, packed the same way, 0 when there are none): the
    /// tokenizer of ASCII text hashes a token in place, folding its case as it reads.
    @inline(__always)
    static func termState(
        count: Int,
        keys: (UInt64, UInt64),
        word: (Int) -> UInt64,
        tail: (Int) -> UInt64
    ) -> UInt64 {
        let (k0, k1) = keys
        var state = k0 ^ UInt64(count) &* 0x9e37_79b9_7f4a_7c15
        var index = 0
        while index + 8 <= count {
            state = Self.mum(word(index) ^ k1, state ^ k0)
            index += 8
        }
        return Self.mum((index < count ? tail(index) : 0) ^ k1, state ^ 0xa076_1d64_78bd_642f)
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

    // MARK: - Full

    /// Compares every document the scan found with its expectation, and every expected row with its document.
    func compare(_ documents: IndexScan.Documents, report: (VerifyFinding) -> Void) {
        let expected = self.expected
        let layout = self.layout
        func compare(_ id: Int64, _ count: Int32, _ digest: UInt64) {
            self.compare(
                id: id,
                count: count,
                digest: digest,
                expected: expected.expectation(id),
                watermark: documents.watermark(of: id, layout),
                report: report
            )
        }
        let slots = documents.tally.slots
        for slot in 0..<slots.count {
            compare(Int64(slot + 1), slots[slot].count, slots[slot].digest)
        }
        // Expected rows with no slot in the scan's tally (past its watermark, or ids the tally does not reach).
        for slot in slots.count..<max(slots.count, expected.count.count) {
            let id = Int64(slot + 1)
            guard documents.extra[id] == nil else { continue }
            compare(id, 0, 0)
        }
        for (id, actual) in documents.extra.sorted(by: { $0.key < $1.key }) {
            compare(id, actual.count, actual.digest)
        }
        for (id, wanted) in expected.sparse
        where wanted.count > 0 && documents.extra[id] == nil && id <= documents.watermark(of: id, layout) {
            report(
                VerifyFinding(
                    .ftsMismatch,
                    rowID: id,
                    "\(Self.name) holds none of the row's \(wanted.count) tokens"
                )
            )
        }
        for (file, ids) in documents.misplaced.sorted(by: { $0.key < $1.key }) {
            for (id, count) in ids.sorted(by: { $0.key < $1.key }) {
                report(self.misplaced(id: id, count: count, in: file))
            }
        }
    }

    /// The finding for a document in full-text file `file` whose row id the layout gives to another file (or to
    /// none: no event has it): a planted entry, or an index file copied from elsewhere.
    func misplaced(id: Int64, count: Int32, in file: Int) -> VerifyFinding {
        let owner = self.layout.file(of: id)
        return VerifyFinding(
            .ftsOrphan,
            rowID: id,
            "\(Self.name) file \(file) holds \(count) tokens for a row id that belongs in file \(owner)"
        )
    }

    private func compare(
        id: Int64,
        count: Int32,
        digest: UInt64,
        expected: (count: Int32, digest: UInt64),
        watermark: Int64,
        report: (VerifyFinding) -> Void
    ) {
        if expected.count == Expectations.notEvent {
            if count > 0 && !self.committedAfterSnapshot(id, watermark: watermark) {
                report(
                    VerifyFinding(
                        .ftsOrphan,
                        rowID: id,
                        "\(Self.name) holds \(count) tokens for a row id that is no event"
                    )
                )
            }
        } else if id > watermark {
            // The indexer never writes past its own watermark.
            if count > 0 {
                report(
                    VerifyFinding(
                        .ftsOrphan,
                        rowID: id,
                        "\(Self.name) holds \(count) tokens for a row past the indexer's watermark"
                    )
                )
            }
        } else if expected.count == Expectations.unchecked {
            return
        } else if count != expected.count {
            report(
                VerifyFinding(
                    .ftsMismatch,
                    rowID: id,
                    "\(Self.name) holds \(count) tokens for the row, its authentic \(Self.content) have \(expected.count)"
                )
            )
        } else if digest != expected.digest {
            report(
                VerifyFinding(
                    .ftsMismatch,
                    rowID: id,
                    "\(Self.name) holds other tokens than the row's authentic \(Self.content)"
                )
            )
        }
    }

    // MARK: - Scoped

    /// Compares the token count `events_fts_docsize` holds for each checked row (its columns' counts added up, in
    /// the file that holds it) with the count of its authentic content, and looks for documents with an id of at
    /// least `lowID` that are no checked event, or in a file that should not hold them. `files`: the files checked
    /// (the others' watermarks are 0).
    func checkRowSizes(_ db: Database, files: [Int], lowID: Int64, report: (VerifyFinding) -> Void) throws {
        let line = self.expected
        var sizes: [Int: Statement] = [:]
        for file in files {
            sizes[file] = try db.cachedStatement(
                sql: "SELECT sz FROM \(FullTextLayout.schema(file)).events_fts_docsize WHERE id = ?"
            )
        }
        var ids: [(Int64, Int32)] = []
        for (slot, count) in line.count.enumerated() where count >= 0 {
            let id = Int64(slot + 1)
            if id <= self.watermark(of: id) { ids.append((id, count)) }
        }
        for (id, wanted) in line.sparse where wanted.count >= 0 && id <= self.watermark(of: id) {
            ids.append((id, wanted.count))
        }
        for (id, expected) in ids {
            guard let size = sizes[self.layout.file(of: id)] else { continue }
            guard let blob = try Data.fetchOne(size, arguments: [id]) else {
                report(VerifyFinding(.ftsMismatch, rowID: id, "the row is not in the full-text index"))
                continue
            }
            let stored = Self.varints(Array(blob)).map { $0.reduce(Int64(0)) { $0.addingSaturating($1) } }
            if stored != Int64(expected) {
                report(
                    VerifyFinding(
                        .ftsMismatch,
                        rowID: id,
                        "the full-text index sizes the row at \(stored.map(String.init) ?? "?") tokens, its authentic \(Self.content) have \(expected)"
                    )
                )
            }
        }
        for file in files {
            let documents = try Row.fetchCursor(
                db,
                sql: "SELECT id, sz FROM \(FullTextLayout.schema(file)).events_fts_docsize WHERE id >= ?",
                arguments: [lowID]
            )
            while let row = try documents.next() {
                let id: Int64 = row[0]
                if self.layout.file(of: id) != file {
                    let size =
                        Self.varints(Array(Data.fromDatabaseValue(row[1]) ?? Data())).map {
                            $0.reduce(Int64(0)) { $0.addingSaturating($1) }
                        } ?? 0
                    report(self.misplaced(id: id, count: Int32(clamping: size), in: file))
                    continue
                }
                guard line.expectation(id).count == Expectations.notEvent,
                    !self.committedAfterSnapshot(id, watermark: self.watermark(of: id))
                else { continue }
                report(
                    VerifyFinding(
                        .ftsOrphan,
                        rowID: id,
                        "the full-text index holds a document for a row id that is no event"
                    )
                )
            }
        }
    }

    /// SQLite's big-endian base-128 varint (FTS5 sizes), the first one in `bytes`.
    static func varint(_ bytes: ArraySlice<UInt8>) -> (value: Int64, length: Int)? {
        var value: UInt64 = 0
        for (index, byte) in bytes.prefix(9).enumerated() {
            if index == 8 { return (Int64(bitPattern: value << 8 | UInt64(byte)), 9) }
            value = value << 7 | UInt64(byte & 0x7f)
            if byte & 0x80 == 0 { return (Int64(bitPattern: value), index + 1) }
        }
        return nil
    }

    /// Every varint of a `docsize` record (one per column), or nil when it does not end where the last one does.
    static func varints(_ bytes: [UInt8]) -> [Int64]? {
        var values: [Int64] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            guard let (value, length) = Self.varint(rest) else { return nil }
            values.append(value)
            rest = rest.dropFirst(length)
        }
        return values
    }
}

/// What one index must hold per event id: a token count and digest.
struct Expectations {
    static let notEvent: Int32 = -1
    static let unchecked: Int32 = -2

    /// Per event id (index = id − 1): expected token count, ``notEvent``, or ``unchecked`` (unauthenticated).
    private(set) var count: [Int32] = []
    private(set) var digest: [UInt64] = []
    /// Ids too far past the others to index an array with (only a tampered database has them).
    private(set) var sparse: [Int64: (count: Int32, digest: UInt64)] = [:]

    mutating func set(_ id: Int64, count: Int32, digest: UInt64) {
        if let slot = self.slot(id) {
            self.count[slot] = count
            self.digest[slot] = digest
        } else {
            self.sparse[id] = (count, digest)
        }
    }

    func expectation(_ id: Int64) -> (count: Int32, digest: UInt64) {
        if id >= 1, Int(id - 1) < self.count.count {
            return (self.count[Int(id - 1)], self.digest[Int(id - 1)])
        }
        return self.sparse[id] ?? (Self.notEvent, 0)
    }

    private mutating func slot(_ id: Int64) -> Int? {
        guard id >= 1 else { return nil }
        let slot = Int(id - 1)
        if slot < self.count.count { return slot }
        guard slot < self.count.count + (1 << 20) else { return nil }
        let grow = slot + 1 - self.count.count
        self.count.append(contentsOf: repeatElement(Self.notEvent, count: grow))
        self.digest.append(contentsOf: repeatElement(0, count: grow))
        return slot
    }
}

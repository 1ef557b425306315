import Foundation
import GRDB
import GRDBSQLite

/// Reads every token instance of an FTS5 table straight from its segment records (`<table>_data`), for
/// ``FullTextCheck``: the `fts5vocab` cursor costs a SQL row per instance, this a few varints.
///
/// The format is FTS5's (`fts5_index.c`, SQLite 3.40): a structure record (id 10) lists each level's segments with
/// their first and last leaf page; a leaf (id `segid << 37 | page`) has a 4-byte header (offset of the first rowid
/// when the page starts inside a doclist, offset of the page footer), terms (the first on a page whole, the
/// others as shared-prefix length and suffix) each followed by its doclist (first rowid, then deltas), each rowid
/// by its position list (size × 2 + delete flag, then `offset + 2` varints, `0x01` and a column number to change
/// column), and a footer of delta-coded term offsets. Position lists and doclists continue across pages.
///
/// It sums what it reads, segment by segment, which equals what a query sees only when no (term, row) pair is in
/// two segments and nothing is deleted. So it refuses (``Unsupported``, and the caller falls back to `fts5vocab`)
/// an index whose segments overlap in both rows and terms, holds a delete marker, a prefix index, a detail mode
/// other than `full`, or anything it does not parse exactly; a legitimate index written by the indexer (rows only
/// appended, never deleted) has none of these.
struct FullTextSegmentReader {
    /// Why the index is not read this way; the caller reads it through `fts5vocab`, which decides.
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    struct Segment {
        var id: Int64
        var firstPage: Int64
        var lastPage: Int64
        // What was read, to check that no (term, row) pair can be in two segments.
        var lowestRow = Int64.max
        var highestRow = Int64.min
        var firstTerm: [UInt8] = []
        var lastTerm: [UInt8] = []
    }

    /// Calls `visit(row, count, digest)` for every (term, row) pair of `table`, with the number of the term's
    /// instances in the row and the sum of their ``FullTextCheck/digest(_:_:keys:)``; returns the number of
    /// instances.
    static func read<Visitor: SegmentVisitor>(
        _ db: Database,
        table: String,
        keys: (UInt64, UInt64),
        visitor: inout Visitor
    ) throws -> Int {
        let schema = try String.fetchOne(
            db,
            sql: "SELECT lower(sql) FROM sqlite_master WHERE name = ?",
            arguments: [table]
        )
        guard let schema, schema.contains("fts5") else { throw Unsupported("\(table) is not an FTS5 table") }
        let compact = schema.filter { !$0.isWhitespace && $0 != "'" && $0 != "\"" }
        if compact.contains("detail="), !compact.contains("detail=full") {
            throw Unsupported("\(table) is not detail=full")
        }
        if compact.contains("prefix=") { throw Unsupported("\(table) has prefix indexes") }
        let data = table + "_data"
        guard let structure = try Data.fetchOne(db, sql: "SELECT block FROM \"\(data)\" WHERE id = 10") else {
            return 0
        }
        var segments = try Self.segments(Array(structure)).segments
        let instances = try Self.read(db, data: data, segments: &segments, keys: keys, visitor: &visitor)
        try Self.checkDisjoint(segments)
        return instances
    }

    private static func read<Visitor: SegmentVisitor>(
        _ db: Database,
        data: String,
        segments: inout [Segment],
        keys: (UInt64, UInt64),
        visitor: inout Visitor
    ) throws -> Int {
        var instances = 0
        let statement = try db.makeStatement(
            sql: "SELECT id, block FROM \"\(data)\" WHERE id BETWEEN ? AND ? ORDER BY id"
        )
        let raw = statement.sqliteStatement
        for index in segments.indices {
            var parser = LeafParser(keys: keys, visitor: visitor)
            defer { visitor = parser.visitor }
            let base = segments[index].id << 37
            sqlite3_reset(raw)
            sqlite3_bind_int64(raw, 1, base + segments[index].firstPage)
            sqlite3_bind_int64(raw, 2, base + segments[index].lastPage)
            var expected = base + segments[index].firstPage
            while try RawBind.nextRow(raw, db) {
                let id = sqlite3_column_int64(raw, 0)
                guard id == expected else {
                    throw Unsupported("segment \(segments[index].id) misses page \(expected - base)")
                }
                expected += 1
                let pointer = sqlite3_column_blob(raw, 1)
                let length = Int(sqlite3_column_bytes(raw, 1))
                try parser.page(UnsafeRawBufferPointer(start: pointer, count: length))
            }
            sqlite3_reset(raw)
            guard expected == base + segments[index].lastPage + 1 else {
                throw Unsupported("segment \(segments[index].id) misses page \(expected - base)")
            }
            try parser.finish()
            instances += parser.instances
            segments[index].lowestRow = parser.lowestRow
            segments[index].highestRow = parser.highestRow
            segments[index].firstTerm = parser.firstTerm ?? []
            segments[index].lastTerm = parser.term
        }
        return instances
    }

    /// The segments of the structure record.
    static func segments(_ record: [UInt8]) throws -> (segments: [Segment], merging: Bool) {
        var cursor = Cursor(record[...])
        guard record.count >= 4 else { throw Unsupported("structure record too short") }
        cursor.position = 4  // the configuration cookie
        if record.count >= 8, record[4] == 0xff { throw Unsupported("structure record of a newer format") }
        let levels = try cursor.varint()
        _ = try cursor.varint()  // total segments
        _ = try cursor.varint()  // write counter
        var segments: [Segment] = []
        var ids: Set<Int64> = []
        var merging = false
        for _ in 0..<levels {
            // Input segments of an ongoing incremental merge.
            if try cursor.varint() > 0 { merging = true }
            let count = try cursor.varint()
            for _ in 0..<count {
                // Varints of an index file may be up to 2^64 − 1: converted exactly, or the record is refused.
                guard let id = Int64(exactly: try cursor.varint()), let first = Int64(exactly: try cursor.varint()),
                    let last = Int64(exactly: try cursor.varint())
                else { throw Unsupported("structure record lists an impossible segment") }
                guard id > 0, id < 1 << 16, first >= 1, last < 1 << 31, ids.insert(id).inserted else {
                    throw Unsupported("structure record lists an impossible segment")
                }
                // A segment emptied by an incremental merge has no pages left.
                if last >= first { segments.append(Segment(id: id, firstPage: first, lastPage: last)) }
            }
        }
        guard cursor.position == record.count else { throw Unsupported("structure record has trailing bytes") }
        return (segments, merging)
    }

    /// No (term, row) pair can be in two segments: every two segments hold disjoint row ranges (the indexer only
    /// appends rows) or disjoint term ranges (an incremental merge in progress moves terms, in order).
    static func checkDisjoint(_ segments: [Segment]) throws {
        let filled = segments.filter { !$0.firstTerm.isEmpty }
        for (offset, one) in filled.enumerated() {
            for other in filled[(offset + 1)...] {
                let rowsApart = one.highestRow < other.lowestRow || other.highestRow < one.lowestRow
                let termsApart =
                    one.lastTerm.lexicographicallyPrecedes(other.firstTerm)
                    || other.lastTerm.lexicographicallyPrecedes(one.firstTerm)
                guard rowsApart || termsApart else {
                    throw Unsupported("segments \(one.id) and \(other.id) overlap in rows and terms")
                }
            }
        }
    }

    struct Cursor {
        let bytes: ArraySlice<UInt8>
        var position: Int

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.position = bytes.startIndex
        }

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            for step in 0..<9 {
                guard self.position < self.bytes.endIndex else { throw Unsupported("record ends inside a varint") }
                let byte = self.bytes[self.position]
                self.position += 1
                if step == 8 { return value << 8 | UInt64(byte) }
                value = value << 7 | UInt64(byte & 0x7f)
                if byte < 0x80 { return value }
            }
            return value
        }
    }
}

/// What the segment reader hands each (term, row) pair to: the row, the number of the term's instances in it, and
/// the sum of their digests. A protocol rather than a closure, so that the tally is compiled into the parser's loop.
protocol SegmentVisitor {
    mutating func visit(_ row: Int64, _ count: Int32, _ digest: UInt64)
}

/// Walks the leaves of one segment in page order, carrying a doclist or position list across pages.
struct LeafParser<Visitor: SegmentVisitor> {
    let keys: (UInt64, UInt64)
    var visitor: Visitor

    /// Current term, with its index byte (`0` for the main index).
    var term: [UInt8] = []
    var firstTerm: [UInt8]?
    var termState: UInt64 = 0
    var row: Int64 = 0
    var lowestRow = Int64.max
    var highestRow = Int64.min
    var instances = 0

    enum State {
        /// Between doclist entries: a row id, a term, or the end.
        case idle
        /// After a row id: the position list's size comes next.
        case size
        /// Inside a position list with this many bytes left.
        case positions(Int)
    }
    var state = State.idle
    var column = 0
    var offset = 0
    var columnComes = false
    /// The current row's instances of the current term so far: reported together (one call per doclist entry,
    /// not per instance), when the next row or term starts or the segment ends.
    var pendingCount: Int32 = 0
    var pendingDigest: UInt64 = 0

    init(keys: (UInt64, UInt64), visitor: Visitor) {
        self.keys = keys
        self.visitor = visitor
    }

    mutating func page(_ page: UnsafeRawBufferPointer) throws {
        guard page.count >= 4 else { throw FullTextSegmentReader.Unsupported("leaf shorter than its header") }
        let rowidOffset = Int(page[0]) << 8 | Int(page[1])
        let footer = Int(page[2]) << 8 | Int(page[3])
        guard footer >= 4, footer <= page.count, rowidOffset == 0 || (rowidOffset >= 4 && rowidOffset < footer) else {
            throw FullTextSegmentReader.Unsupported("leaf header out of range")
        }
        var terms: [Int] = []
        var at = footer
        var last = 0
        while at < page.count {
            let previous = terms.last ?? 0
            last += try Self.length(page, &at, end: page.count)
            guard last >= 4, footer > last, last > previous else {
                throw FullTextSegmentReader.Unsupported("leaf footer out of range")
            }
            terms.append(last)
        }
        if let first = terms.first, rowidOffset != 0, rowidOffset > first {
            throw FullTextSegmentReader.Unsupported("leaf's first row id after its first term")
        }
        var position = 4
        // What continues from the previous page: the rest of a position list.
        let continuation = rowidOffset != 0 ? rowidOffset : (terms.first ?? footer)
        try self.entries(page, &position, end: continuation, rowsAllowed: false)
        if rowidOffset != 0 {
            guard case .idle = self.state, !self.term.isEmpty else {
                throw FullTextSegmentReader.Unsupported("leaf's first row id inside a position list")
            }
            // The first row id on a page is written whole.
            let row = Int64(bitPattern: try Self.varint(page, &position, end: footer))
            try self.startRow(row, first: false)
            try self.entries(page, &position, end: terms.first ?? footer, rowsAllowed: true)
        }
        for (number, start) in terms.enumerated() {
            guard position == start, case .idle = self.state else {
                throw FullTextSegmentReader.Unsupported("term not where the footer says")
            }
            if number == 0 {
                // The first term on a page is written whole.
                let length = try Self.length(page, &position, end: footer)
                guard length > 0, position + length <= footer else {
                    throw FullTextSegmentReader.Unsupported("bad term")
                }
                let whole = UnsafeRawBufferPointer(rebasing: page[position..<(position + length)])
                guard self.firstTerm == nil || self.term.lexicographicallyPrecedes(whole) else {
                    throw FullTextSegmentReader.Unsupported("terms out of order")
                }
                self.term.removeAll(keepingCapacity: true)
                self.term.append(contentsOf: whole)
                position += length
            } else {
                // The others share a prefix with the one before: FTS5 stores the longest, so the suffix's first
                // byte must sort after the previous term's byte there.
                let shared = try Self.length(page, &position, end: footer)
                let suffix = try Self.length(page, &position, end: footer)
                guard shared <= self.term.count, suffix > 0, position + suffix <= footer,
                    shared == self.term.count || page[position] > self.term[shared]
                else { throw FullTextSegmentReader.Unsupported("bad or out-of-order term") }
                self.term.removeSubrange(shared...)
                self.term.append(contentsOf: UnsafeRawBufferPointer(rebasing: page[position..<(position + suffix)]))
                position += suffix
            }
            try self.startTerm()
            let end = number + 1 < terms.count ? terms[number + 1] : footer
            // A term at the very end of a page has its doclist on the next page.
            if position < end {
                let row = Int64(bitPattern: try Self.varint(page, &position, end: end))
                try self.startRow(row, first: true)
                try self.entries(page, &position, end: end, rowsAllowed: true)
            } else {
                self.report()
                self.row = 0
            }
        }
        guard position == footer else {
            throw FullTextSegmentReader.Unsupported("leaf data does not end at its footer")
        }
    }

    mutating func finish() throws {
        guard case .idle = self.state, !self.columnComes else {
            throw FullTextSegmentReader.Unsupported("segment ends inside a position list")
        }
        self.report()
    }

    /// Hands the current row's instances of the current term to `visit`.
    @inline(__always)
    private mutating func report() {
        guard self.pendingCount > 0 else { return }
        self.visitor.visit(self.row, self.pendingCount, self.pendingDigest)
        self.pendingCount = 0
        self.pendingDigest = 0
    }

    /// `term` holds the new term (its order already checked).
    private mutating func startTerm() throws {
        guard let index = self.term.first, index == UInt8(ascii: "0") else {
            throw FullTextSegmentReader.Unsupported("term of a prefix index or of no index")
        }
        if self.firstTerm == nil { self.firstTerm = self.term }
        let keys = self.keys
        self.termState = self.term.withUnsafeBytes { bytes in
            FullTextCheck.termState(UnsafeRawBufferPointer(rebasing: bytes[1...]), keys: keys)
        }
    }

    /// `first`: the first row of the term's doclist (any value); otherwise one written whole at a page start,
    /// which must follow the previous row.
    private mutating func startRow(_ row: Int64, first: Bool) throws {
        guard first || row > self.row, row > 0 else { throw FullTextSegmentReader.Unsupported("row ids out of order") }
        self.report()
        self.row = row
        self.lowestRow = min(self.lowestRow, row)
        self.highestRow = max(self.highestRow, row)
        self.state = .size
    }

    /// Doclist entries from `position` to `end`: position-list bytes, sizes, and (when `rowsAllowed`) row-id deltas.
    private mutating func entries(
        _ page: UnsafeRawBufferPointer,
        _ position: inout Int,
        end: Int,
        rowsAllowed: Bool
    ) throws {
        while position < end {
            switch self.state {
            case .idle:
                guard rowsAllowed else {
                    throw FullTextSegmentReader.Unsupported("leaf continues no position list")
                }
                let delta = Int64(bitPattern: try Self.varint(page, &position, end: end))
                guard delta > 0 else { throw FullTextSegmentReader.Unsupported("row ids out of order") }
                let (row, overflow) = self.row.addingReportingOverflow(delta)
                guard !overflow else { throw FullTextSegmentReader.Unsupported("row id overflows") }
                try self.startRow(row, first: true)
            case .size:
                let size = try Self.varint(page, &position, end: end)
                guard size & 1 == 0 else { throw FullTextSegmentReader.Unsupported("delete marker") }
                self.column = 0
                self.offset = 0
                self.columnComes = false
                self.state = size == 0 ? .idle : .positions(Int(size >> 1))
            case .positions(let left):
                let start = position
                let value = try Self.varint(page, &position, end: left <= end - position ? position + left : end)
                let used = position - start
                if self.columnComes {
                    // events_fts has three columns; anything else is not FTS5's.
                    guard value < 3 else { throw FullTextSegmentReader.Unsupported("column out of range") }
                    self.column = Int(value)
                    self.offset = 0
                    self.columnComes = false
                } else if value == 1 {
                    self.columnComes = true
                } else if value >= 2 {
                    guard let step = Int(exactly: value - 2),
                        case (let offset, false) = self.offset.addingReportingOverflow(step)
                    else { throw FullTextSegmentReader.Unsupported("position out of range") }
                    self.offset = offset
                    self.pendingDigest &+= FullTextCheck.digest(
                        termState: self.termState,
                        FullTextCheck.position(column: self.column, offset: self.offset),
                        keys: self.keys
                    )
                    self.pendingCount &+= 1
                    self.instances += 1
                } else {
                    throw FullTextSegmentReader.Unsupported("zero in a position list")
                }
                if left == used {
                    guard !self.columnComes else {
                        throw FullTextSegmentReader.Unsupported("position list ends before its column")
                    }
                    self.state = .idle
                } else {
                    self.state = .positions(left - used)
                }
            }
        }
    }

    /// A varint that counts bytes of the page: never more than the page holds, so sums of them cannot overflow.
    static func length(_ page: UnsafeRawBufferPointer, _ position: inout Int, end: Int) throws -> Int {
        let value = try Self.varint(page, &position, end: end)
        guard value <= UInt64(page.count) else { throw FullTextSegmentReader.Unsupported("length past the page") }
        return Int(value)
    }

    @inline(__always)
    static func varint(_ page: UnsafeRawBufferPointer, _ position: inout Int, end: Int) throws -> UInt64 {
        var value: UInt64 = 0
        var step = 0
        while position < end {
            let byte = page[position]
            position += 1
            if step == 8 { return value << 8 | UInt64(byte) }
            value = value << 7 | UInt64(byte & 0x7f)
            if byte < 0x80 { return value }
            step += 1
        }
        throw FullTextSegmentReader.Unsupported("varint crosses the end of its region")
    }
}

import CSQLiteTuning
import Dispatch
import Foundation
import GRDB
import GRDBSQLite

extension FullTextCheck {
    /// What one sequential read of the whole index found: a token count and digest per document id.
    ///
    /// The scan reads on its own read-only connection to the index file, on another thread, so that it overlaps the
    /// batch-and-row pass; ``result()`` waits for it. Its snapshot is its own: it reads the index's watermark in the
    /// same transaction as the documents, and may see documents for events the pass's snapshot does not have yet.
    final class IndexScan: @unchecked Sendable {
        struct Documents {
            /// The indexer's watermark in the scanned snapshot.
            var watermark: Int64 = 0
            /// Per document id (slot = id − 1).
            var tally = DocumentTally(size: 0)
            /// Ids too far past the others to index an array with (only a tampered index has them).
            var extra: [Int64: (count: Int32, digest: UInt64)] = [:]
            /// Read from the segment records (``FullTextSegmentReader``), or nil; else why not, and `fts5vocab` read it.
            var segmentReaderRefused: String?
        }

        private let done = DispatchSemaphore(value: 0)
        /// Written only by the scanning thread before it signals `done`; read after waiting.
        private var scanned: Result<Documents, any Error> = .success(Documents())

        /// Starts scanning the index in the index file at `path` on another thread; `expectedDocuments` sizes the
        /// arrays.
        init(path: String, immutable: Bool, expectedDocuments: Int) {
            DispatchQueue.global().async {
                self.scanned = Result {
                    try Self.scan(path: path, immutable: immutable, expectedDocuments: expectedDocuments)
                }
                self.done.signal()
            }
        }

        /// Waits for the scan; what the index holds, or why it could not be read.
        func result() -> Result<Documents, any Error> {
            self.done.wait()
            return self.scanned
        }

        /// `segments: false` reads through `fts5vocab` only (for tests comparing the two readers).
        static func scan(
            path: String,
            immutable: Bool,
            expectedDocuments: Int,
            segments: Bool = true
        ) throws -> Documents {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.label = "flightlog-verify-fts"
            let queue = try DatabaseQueue(
                path: immutable ? SQLiteStore.immutableURI(path) : path,
                configuration: configuration
            )
            // Its own fts5vocab view, in the connection's temp schema: works on a file opened read-only, whatever
            // its migrations.
            let table = FullTextCheck.table
            let current = try queue.inDatabase { db in
                guard try FullTextCheck.hasCurrentLayout(db, schema: "main") else { return false }
                try db.execute(
                    sql: "CREATE VIRTUAL TABLE temp.verify_vocabulary USING fts5vocab(main, \(table), instance)"
                )
                return true
            }
            return try queue.read { db in
                var documents = Documents()
                // An index file in an older layout: not checked (the checker reports its whole lag instead).
                guard current else { return documents }
                documents.watermark = try Int64.fetchOne(db, sql: "SELECT indexed_through FROM fts_progress") ?? 0
                let size = max(0, min(expectedDocuments, Int(clamping: documents.watermark)))
                let keys = TokenKey.keys
                do {
                    guard segments else { throw FullTextSegmentReader.Unsupported("not asked to") }
                    var tally = Tally(size: size)
                    _ = try FullTextSegmentReader.read(db, table: table, keys: keys, visitor: &tally)
                    tally.finish(into: &documents)
                    return documents
                } catch let refusal as FullTextSegmentReader.Unsupported {
                    documents.segmentReaderRefused = refusal.description
                }
                // Columns are numbered in the table's order: `col` is the column's name, told apart by its first
                // byte (line, program, fields).
                let statement = try db.makeStatement(
                    sql: "SELECT doc, offset, term, col FROM temp.verify_vocabulary"
                )
                let raw = statement.sqliteStatement
                var tally = Tally(size: size)
                while try RawBind.nextRow(raw, db) {
                    let doc = sqlite3_column_int64(raw, 0)
                    let offset = Int(sqlite3_column_int64(raw, 1))
                    // The pointer first, then the length (sqlite3_column_bytes after _text does not convert).
                    let text = sqlite3_column_text(raw, 2)
                    let length = Int(sqlite3_column_bytes(raw, 2))
                    let term = UnsafeRawBufferPointer(start: text, count: length)
                    var column = 0
                    if let name = sqlite3_column_text(raw, 3) {
                        switch name.pointee {
                        case UInt8(ascii: "p"): column = 1
                        case UInt8(ascii: "f"): column = 2
                        default: column = 0
                        }
                    }
                    tally.visit(
                        doc,
                        1,
                        FullTextCheck.digest(
                            term,
                            FullTextCheck.position(column: column, offset: offset),
                            keys: keys
                        )
                    )
                }
                tally.finish(into: &documents)
                return documents
            }
        }
    }
}

extension FullTextCheck.IndexScan {
    /// Adds token instances (document id, how many, the sum of their digests) to per-document counts and digest
    /// sums: ids 1…`size` in a ``DocumentTally``, others in `extra`.
    ///
    /// Each update is applied `ahead` updates after its slot was prefetched, so that the cache misses of a scan
    /// (slots spread over hundreds of megabytes) overlap instead of stalling one after the other.
    struct Tally: SegmentVisitor {
        static let ahead = 16
        let size: Int
        let tally: DocumentTally
        var extra: [Int64: (count: Int32, digest: UInt64)] = [:]
        private let pending = Pending()
        private var ring: UnsafeMutablePointer<(slot: Int, count: Int32, digest: UInt64)> { self.pending.ring }
        private var added = 0

        /// The updates prefetched and not yet applied (freed with the tally, whether or not the scan finished).
        private final class Pending {
            let ring = UnsafeMutablePointer<(slot: Int, count: Int32, digest: UInt64)>.allocate(capacity: Tally.ahead)
            deinit { self.ring.deallocate() }
        }

        init(size: Int) {
            self.size = size
            self.tally = DocumentTally(size: size)
        }

        @inline(__always)
        mutating func visit(_ doc: Int64, _ count: Int32, _ digest: UInt64) {
            guard doc >= 1, doc <= self.size else {
                self.extra[doc, default: (0, 0)].count += count
                self.extra[doc, default: (0, 0)].digest &+= digest
                return
            }
            let index = self.added & (Self.ahead - 1)
            if self.added >= Self.ahead { self.apply(index) }
            let slot = Int(doc - 1)
            flightlog_prefetch_for_write(self.tally.slots.baseAddress.map { UnsafeRawPointer($0 + slot) })
            self.ring[index] = (slot, count, digest)
            self.added += 1
        }

        @inline(__always)
        private func apply(_ index: Int) {
            let pending = self.ring[index]
            self.tally.slots[pending.slot].count += pending.count
            self.tally.slots[pending.slot].digest &+= pending.digest
        }

        /// Applies what is still pending and hands the sums to `documents`.
        consuming func finish(into documents: inout Documents) {
            for index in 0..<min(self.added, Self.ahead) { self.apply(index) }
            documents.tally = self.tally
            documents.extra = self.extra
        }
    }
}

/// A token count and digest sum per document id, in one block of memory.
///
/// A full index scan adds every token instance to the slot of its document: hundreds of millions of updates at
/// addresses spread over the whole block (a term's doclist runs over every document holding it). Count and digest
/// share a 16-byte slot, so an update touches one cache line, and the block asks the kernel for 2 MiB pages, so it
/// does not also miss the TLB (4 KiB pages: 30,000 of them for 10 M documents).
final class DocumentTally: @unchecked Sendable {
    struct Slot {
        var digest: UInt64 = 0
        var count: Int32 = 0
    }

    /// Written only by the scanning thread, read after it is done.
    let slots: UnsafeMutableBufferPointer<Slot>
    private let mapping: UnsafeMutableRawPointer?
    private let mappedBytes: Int

    init(size: Int) {
        let bytes = max(1, size) * MemoryLayout<Slot>.stride
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if let mapped, mapped != MAP_FAILED {
            // Advice only: without transparent huge pages this is an ordinary (zeroed) anonymous mapping.
            _ = madvise(mapped, bytes, MADV_HUGEPAGE)
            self.mapping = mapped
            self.mappedBytes = bytes
            self.slots = UnsafeMutableBufferPointer(
                start: mapped.bindMemory(to: Slot.self, capacity: size),
                count: size
            )
        } else {
            self.mapping = nil
            self.mappedBytes = 0
            let memory = UnsafeMutableBufferPointer<Slot>.allocate(capacity: size)
            memory.initialize(repeating: Slot())
            self.slots = memory
        }
    }

    deinit {
        if let mapping { munmap(mapping, self.mappedBytes) } else { self.slots.deallocate() }
    }

    var counts: [Int32] { self.slots.map(\.count) }
    var digests: [UInt64] { self.slots.map(\.digest) }
}

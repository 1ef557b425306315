import CSQLiteTuning
import Dispatch
import Foundation
import GRDB
import GRDBSQLite

extension FullTextCheck {
    /// What one sequential read of the whole index, file after file, found: a token count and digest per document
    /// id.
    ///
    /// The scan reads on its own read-only connections to the index files, on another thread, so that it overlaps
    /// the batch-and-row pass; ``result()`` waits for it. Its snapshots are its own: it reads each file's watermark
    /// in the same transaction as that file's documents, and may see documents for events the pass's snapshot does
    /// not have yet.
    final class IndexScan: @unchecked Sendable {
        struct Documents {
            /// Each file's indexer's watermark in its scanned snapshot (0 for a file not scanned).
            var watermarks = [Int64](repeating: 0, count: FullTextLayout.fileCount)
            /// Per document id (slot = id − 1), from the file that should hold it.
            var tally = DocumentTally(size: 0)
            /// Ids too far past the others to index an array with (only a tampered index has them).
            var extra: [Int64: (count: Int32, digest: UInt64)] = [:]
            /// Documents found in a file that should not hold them (the layout gives their event to another):
            /// per file and id, how many tokens. Only a tampered or mixed-up index has them.
            var misplaced: [Int: [Int64: Int32]] = [:]
            /// Read from the segment records (``FullTextSegmentReader``), or nil; else why not, and `fts5vocab` read it.
            var segmentReaderRefused: String?

            /// The watermark of the file that holds event `id`.
            func watermark(of id: Int64, _ layout: FullTextLayout) -> Int64 { self.watermarks[layout.file(of: id)] }
        }

        /// One file to scan: which of the layout's files, and its path.
        struct File {
            var file: Int
            var path: String
        }

        private let done = DispatchSemaphore(value: 0)
        /// Written only by the scanning thread before it signals `done`; read after waiting.
        private var scanned: Result<Documents, any Error> = .success(Documents())

        /// Starts scanning the index files `files` on another thread; `expectedDocuments` sizes the arrays.
        ///
        /// A queue of its own, not `DispatchQueue.global()`: on Linux that is the concurrency pool's own root queue
        /// (one thread a core), and a scan of seconds there would hold up every task of the process meanwhile.
        init(files: [File], layout: FullTextLayout, immutable: Bool, expectedDocuments: Int) {
            DispatchQueue(label: "flightlog.verify.index-scan").async {
                self.scanned = Result {
                    try Self.scan(
                        files: files,
                        layout: layout,
                        immutable: immutable,
                        expectedDocuments: expectedDocuments
                    )
                }
                self.done.signal()
            }
        }

        /// Waits for the scan; what the index holds, or why it could not be read.
        func result() -> Result<Documents, any Error> {
            self.done.wait()
            return self.scanned
        }

        /// One file read on its own, as if it held every event (for tests comparing the two readers).
        static func scan(
            path: String,
            immutable: Bool,
            expectedDocuments: Int,
            segments: Bool = true
        ) throws -> Documents {
            try Self.scan(
                files: [File(file: 0, path: path)],
                layout: FullTextLayout(splitAfter: .max),
                immutable: immutable,
                expectedDocuments: expectedDocuments,
                segments: segments
            )
        }

        /// Reads `files` into one tally, through their segment records; if the segment reader refuses one of them,
        /// all of them again through `fts5vocab` (`segments: false`: through `fts5vocab` only).
        static func scan(
            files: [File],
            layout: FullTextLayout,
            immutable: Bool,
            expectedDocuments: Int,
            segments: Bool = true
        ) throws -> Documents {
            let queues = try files.map { file in
                var configuration = Configuration()
                configuration.readonly = true
                configuration.label = "flightlog-verify-fts"
                let queue = try DatabaseQueue(
                    path: immutable ? SQLiteStore.immutableURI(file.path) : file.path,
                    configuration: configuration
                )
                // Its own fts5vocab view, in the connection's temp schema: works on a file opened read-only,
                // whatever its migrations.
                let current = try queue.inDatabase { db in
                    guard try FullTextCheck.hasCurrentLayout(db, schema: "main") else { return false }
                    try db.execute(
                        sql: """
                            CREATE VIRTUAL TABLE temp.verify_vocabulary USING fts5vocab(main, \(FullTextCheck.table), \
                            instance)
                            """
                    )
                    return true
                }
                // An index file in an older layout: not checked (the checker reports its whole lag instead).
                return current ? (file.file, queue) : nil
            }.compactMap { $0 }
            let size = max(0, expectedDocuments)
            var documents = Documents()
            /// Reads every file with `read` into one new tally, each with its watermark from the same snapshot.
            func readAll(_ read: (Database, inout Tally) throws -> Void) throws {
                var tally = Tally(size: size, layout: layout)
                for (file, queue) in queues {
                    tally.file = file
                    documents.watermarks[file] = try queue.read { db in
                        try read(db, &tally)
                        return try Self.watermark(db)
                    }
                }
                tally.finish(into: &documents)
            }
            if segments {
                do {
                    try readAll { db, tally in
                        _ = try FullTextSegmentReader.read(
                            db,
                            table: FullTextCheck.table,
                            keys: TokenKey.keys,
                            visitor: &tally
                        )
                    }
                    return documents
                } catch let refusal as FullTextSegmentReader.Unsupported {
                    documents.segmentReaderRefused = refusal.description
                }
            } else {
                documents.segmentReaderRefused = "not asked to"
            }
            try readAll { db, tally in try Self.readVocabulary(db, into: &tally) }
            return documents
        }

        /// The indexer's watermark in the file `db` reads.
        private static func watermark(_ db: Database) throws -> Int64 {
            try Int64.fetchOne(db, sql: "SELECT indexed_through FROM fts_progress") ?? 0
        }

        /// Every token instance of the file `db` reads, through its `fts5vocab` `instance` table.
        private static func readVocabulary(_ db: Database, into tally: inout Tally) throws {
            let keys = TokenKey.keys
            // Columns are numbered in the table's order: `col` is the column's name, told apart by its first
            // byte (line, program, fields).
            let statement = try db.makeStatement(sql: "SELECT doc, offset, term, col FROM temp.verify_vocabulary")
            let raw = statement.sqliteStatement
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
                    FullTextCheck.digest(term, FullTextCheck.position(column: column, offset: offset), keys: keys)
                )
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
        /// Which file holds which event, and the file being read: a document the layout gives to another file is
        /// counted as misplaced, not in the tally.
        let layout: FullTextLayout
        var file = 0
        var extra: [Int64: (count: Int32, digest: UInt64)] = [:]
        var misplaced: [Int: [Int64: Int32]] = [:]
        private let pending = Pending()
        private var ring: UnsafeMutablePointer<(slot: Int, count: Int32, digest: UInt64)> { self.pending.ring }
        private var added = 0

        /// The updates prefetched and not yet applied (freed with the tally, whether or not the scan finished).
        private final class Pending {
            let ring = UnsafeMutablePointer<(slot: Int, count: Int32, digest: UInt64)>.allocate(capacity: Tally.ahead)
            deinit { self.ring.deallocate() }
        }

        init(size: Int, layout: FullTextLayout) {
            self.size = size
            self.tally = DocumentTally(size: size)
            self.layout = layout
        }

        @inline(__always)
        mutating func visit(_ doc: Int64, _ count: Int32, _ digest: UInt64) {
            guard self.layout.file(of: doc) == self.file else {
                self.misplaced[self.file, default: [:]][doc, default: 0] &+= count
                return
            }
            guard doc >= 1, doc <= self.size else {
                self.extra[doc, default: (0, 0)].count &+= count
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
            self.tally.slots[pending.slot].count &+= pending.count
            self.tally.slots[pending.slot].digest &+= pending.digest
        }

        /// Applies what is still pending and hands the sums to `documents`.
        consuming func finish(into documents: inout Documents) {
            for index in 0..<min(self.added, Self.ahead) { self.apply(index) }
            documents.tally = self.tally
            documents.extra = self.extra
            documents.misplaced = self.misplaced
        }
    }
}

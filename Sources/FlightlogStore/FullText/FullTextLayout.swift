import Foundation
import GRDB

/// Which full-text file holds which event: the index is split across ``fileCount`` files, each written by its own
/// indexer on its own connection (see ``FullTextIndexer``), so that indexing runs on as many cores.
///
/// Every event up to ``splitAfter`` is in the first file, `DB.fts`; each later event is in the file its id picks
/// (`id % fileCount`: even ids in `DB.fts`, odd ids in `DB.fts1`). Split by id rather than by range, both indexers
/// work on the newest events at once and the index trails the commit by half as much. ``splitAfter`` is where a
/// store indexed by one file (before index-file migration v9) was split: that file keeps what it had indexed, the
/// second starts after it. It is 0 for a store indexed in two files from the start.
///
/// Why two files: one FTS5 table filled by one connection runs on one core, at ~9.5 µs of CPU per event, which
/// caps the index near 100,000 events/s however fast the rest of the pipeline is; in two files, re-indexing takes
/// about half as long (docs/benchmarks/ingest.md, "the full-text index in two files").
public struct FullTextLayout: Sendable, Equatable {
    /// How many files the index is split across.
    public static let fileCount = 2

    /// Every event up to this id is in file 0; every later one in file `id % fileCount`. `Int64.max` for an index
    /// file from before the split (read-only media): it holds every event.
    public var splitAfter: Int64

    public init(splitAfter: Int64) {
        self.splitAfter = splitAfter
    }

    /// The file (0 ..< ``fileCount``) that holds event `id`.
    @inline(__always)
    public func file(of id: Int64) -> Int {
        id <= self.splitAfter ? 0 : Int(id % Int64(Self.fileCount))
    }

    /// Where file `file`'s indexer starts in a new file: from the first event for the first file, after the split
    /// for the others (they hold nothing up to it).
    func start(of file: Int) -> Int64 { file == 0 ? 0 : self.splitAfter }

    /// Up to which id file `file` holds every event, whatever its id: the split for the first file, none for the
    /// others.
    func holdsEveryEventThrough(_ file: Int) -> Int64 { file == 0 ? self.splitAfter : 0 }

    /// Whether the index was written before the split, in one file.
    public var isSingleFile: Bool { self.splitAfter == .max }

    /// The files that must exist for the index to be complete.
    public var files: Range<Int> { 0..<(self.isSingleFile ? 1 : Self.fileCount) }

    /// The full-text file `file` of the evidence database at `databasePath`: `DB.fts`, `DB.fts1`.
    public static func path(for databasePath: String, file: Int) -> String {
        databasePath + (file == 0 ? ".fts" : ".fts\(file)")
    }

    /// Every full-text file of the evidence database at `databasePath`.
    public static func paths(for databasePath: String) -> [String] {
        (0..<Self.fileCount).map { Self.path(for: databasePath, file: $0) }
    }

    /// The schema a reader attaches full-text file `file` as: `fts`, `fts1`.
    static func schema(_ file: Int) -> String { file == 0 ? "fts" : "fts\(file)" }

    /// The view over every attached full-text file's `events_fts`, in each reader's temp schema: `id`, the
    /// columns `line`, `program` and `fields`, and `events_fts` (FTS5's hidden column named after its table, for
    /// `events_fts MATCH …` over all columns). SQLite pushes a `MATCH` on it down into each file's table.
    static let view = "events_fts_all"

    /// Attaches the full-text files `paths` (an entry per file, nil for one missing or left out; a path or URI) to
    /// a reader's connection, each as its ``schema(_:)``, and creates ``view`` over them unless one was left out as
    /// unreadable (`complete` false) or one the layout needs is missing or unusable: `--match` then fails with what
    /// to do rather than answer from part of the index, and hunts scan. A file SQLite finds damaged throws
    /// ``StoreError/fullTextDamaged(path:reason:)`` naming `names[file]`.
    static func attach(_ db: Database, paths: [String?], names: [String], complete: Bool) throws {
        for (file, path) in paths.enumerated() {
            guard let path else { continue }
            let schema = Self.schema(file)
            do {
                try db.execute(sql: "ATTACH DATABASE ? AS \(schema)", arguments: [path])
                // ATTACH does not read the file: its schema does, and finds a file that is not a database.
                _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(schema).sqlite_master")
            } catch let error as DatabaseError where SQLiteStore.isDamage(error) {
                throw StoreError.fullTextDamaged(path: names[file], reason: "\(error.message ?? "\(error)")")
            }
        }
        guard complete else { return }
        // Only the files the layout has events in: a file it does not need (next to a file from before the split)
        // holds nothing a query may count.
        let attached = try AttachedFullText(db)
        let files = attached.layout.files
        guard files.allSatisfy({ attached.watermarks[$0] != nil }) else { return }
        let selects = files.map { file in
            // A file in the layout before index-file migration v8 (read-only media) has the line only.
            let columns = attached.current[file] ? "line, program, fields" : "line, NULL, NULL"
            return "SELECT rowid, \(columns), events_fts FROM \(Self.schema(file)).events_fts"
        }
        try db.execute(
            sql: "CREATE TEMP VIEW \(Self.view) (id, line, program, fields, events_fts) AS "
                + selects.joined(separator: " UNION ALL ")
        )
    }
}

import Foundation
import GRDB

/// What a reader's connection sees of the full-text files it attached (see
/// ``FullTextLayout/attach(_:paths:names:complete:)``).
struct AttachedFullText {
    var layout: FullTextLayout
    /// Per file: its indexer's watermark (every event of that file up to it is indexed), nil when not attached or
    /// not an index file (no `events_fts` or `fts_progress`).
    var watermarks: [Int64?]
    /// Per file: whether it is attached in the current layout (one table of three columns, index-file migration
    /// v8), which `verify` and hunts need.
    var current: [Bool]

    /// Reads it in `db`'s current transaction.
    init(_ db: Database) throws {
        let attached = Set(try String.fetchAll(db, sql: "SELECT name FROM pragma_database_list"))
        var split: Int64?
        self.watermarks = []
        self.current = []
        for file in 0..<FullTextLayout.fileCount {
            let schema = FullTextLayout.schema(file)
            let tables =
                attached.contains(schema)
                ? try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM \(schema).sqlite_master WHERE name IN ('events_fts', 'fts_progress')"
                ) : 0
            guard tables == 2 else {
                self.watermarks.append(nil)
                self.current.append(false)
                continue
            }
            let hasSplit =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM pragma_table_info('fts_progress', ?) WHERE name = 'split_after'",
                    arguments: [schema]
                ) == 1
            let row = try Row.fetchOne(
                db,
                sql: "SELECT indexed_through\(hasSplit ? ", split_after" : "") FROM \(schema).fts_progress"
            )
            self.watermarks.append(max(0, row.flatMap { Int64.fromDatabaseValue($0[0]) } ?? 0))
            self.current.append(try FullTextCheck.hasCurrentLayout(db, schema: schema))
            // The first file decides; a first file from before the split holds every event.
            if split == nil {
                split = hasSplit ? (row.flatMap { Int64.fromDatabaseValue($0[1]) } ?? 0) : (file == 0 ? .max : 0)
            }
        }
        self.layout = FullTextLayout(splitAfter: split ?? 0)
        self.hasView =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM temp.sqlite_master WHERE name = ?",
                arguments: [FullTextLayout.view]
            ) == 1
    }

    /// Whether ``FullTextLayout/view`` exists: queries can search the index.
    var hasView: Bool

    /// Every event up to this id is in the index: the lowest watermark of the files the layout needs (0 for one
    /// that is missing).
    var indexedThrough: Int64 {
        self.layout.files.map { self.watermarks[$0] ?? 0 }.min() ?? 0
    }

    /// Whether every file the layout needs is attached in the current layout, and searchable.
    var isCurrent: Bool { self.hasView && self.layout.files.allSatisfy { self.current[$0] } }
}

import GRDB

/// The schema of a full-text file (`DB.fts`, `DB.fts1`), migration by migration: like the evidence database's
/// (``Migrations``), never edited once shipped, and reading nothing from the code that uses the schema (the page and
/// leaf sizes of v5 and v8 are written out as they were).
enum FullTextMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 events_fts with its watermark") { db in
            // detail=full keeps token positions: phrase queries ("203.0.113.77" is the phrase 203 0 113 77) need them.
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE events_fts USING fts5(line, content='', tokenize='unicode61');
                    INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 8);
                    CREATE VIRTUAL TABLE events_fts_instance USING fts5vocab(events_fts, instance);
                    CREATE TABLE fts_progress (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        indexed_through INTEGER NOT NULL
                    );
                    INSERT INTO fts_progress (id, indexed_through) VALUES (1, 0);
                    """
            )
        }
        migrator.registerMigration("v2 events_attrs: program and parsed fields, with their own watermark") { db in
            // Sigma hunts read candidates for conditions on `program` and parsed fields here (see FieldsDocument).
            // Its own watermark: an existing index is filled from the first event on, behind the line index, while
            // new events keep being indexed (see indexNext).
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE events_attrs USING fts5(
                        program, fields, content='', columnsize=0, tokenize='unicode61'
                    );
                    INSERT INTO events_attrs (events_attrs, rank) VALUES ('automerge', 8);
                    ALTER TABLE fts_progress ADD COLUMN attrs_indexed_through INTEGER NOT NULL DEFAULT 0;
                    """
            )
        }
        migrator.registerMigration("v3 automerge 16") { db in
            // Merge segments 16 at a time instead of 8: less merge work while indexing (3 M events: 95 k -> 102 k
            // events/s, 19.7 -> 18.3 µs of CPU per event), for a few more segments to look a term up in.
            try Self.setOption(db, "automerge", 16)
        }
        migrator.registerMigration("v4 hashsize 8 MiB") { db in
            // FTS5 writes its pending terms out as a new segment whenever they pass 1 MiB (its default), several
            // times per indexing transaction; with 8 MiB, once per transaction (20,000 rows): fewer, larger
            // segments to merge later. sqlite3 3.40.1, 1 M generated lines into both tables: 17.9 -> 15.1 µs of CPU
            // per row (Python driver included), the file 5 % smaller.
            try Self.setOption(db, "hashsize", 8_388_608)
        }
        migrator.registerMigration("v5 leaves of 16,000 bytes in a file of 16 KiB pages") { db in
            // FTS5's default leaf (4,050 bytes) fits a 4 KiB page; in a file created with 16 KiB pages a leaf of
            // 16,000 bytes fills one. A file created with 4 KiB pages keeps its leaves (larger ones would spill into
            // overflow pages); deleting the `.fts` file while `serve` is stopped rebuilds it in the new layout.
            guard try Int.fetchOne(db, sql: "PRAGMA page_size") == 16_384 else { return }
            try Self.setOption(db, "pgsz", 16_000)
        }
        migrator.registerMigration("v6 crisismerge 64") { db in
            // FTS5 merges a level all at once, in the running transaction, when it holds `crisismerge` segments
            // (16 by default), and the incremental merges of `automerge` start at 16 too: so every merge was such a
            // crisis merge. At 5.12 M events sixteen 320,000-row segments were rewritten in one transaction (~1.3 GB
            // through the WAL; 15 s without progress; ~20 GB at 82 M events). With 64, the merges run incrementally,
            // a little after each indexing transaction, and the WAL stays small.
            try Self.setOption(db, "crisismerge", 64)
        }
        migrator.registerMigration("v7 automerge 32") { db in
            // Merge 32 segments at a time instead of 16: each posting is rewritten once per level, and with 32 a
            // level holds twice as many rows (20 k, 640 k, 20.5 M instead of 20 k, 320 k, 5.12 M, 82 M). `sqlite3`
            // shell, both tables, the real text of 6 M events, 20,000 rows per transaction: 48.0 s of CPU against
            // 55.7 s (the sixth million 8.5 s against 14.2 s: no 5.12 M-row merge). Queries look terms up in up to
            // twice as many segments per level.
            try Self.setOption(db, "automerge", 32)
        }
        migrator.registerMigration("v8 one table for the line, program and fields") { db in
            // The line index and the hunt index become one table of three columns. The indexer inserted every
            // event twice, and FTS5 kept two hashes, two sets of segments and two merge schedules: measured inside
            // `flightlog-bench ingest` (2 M events of ~200-byte lines, release, alternating, 2026-11-27) one table
            // gave 80.5-86.5 k events/s acknowledged and indexed against 62.9-70.5 k, 19.8-21.0 µs of CPU per event
            // against 22.7-24.9. The index is derived: the new table is filled from the stored events, with both
            // watermarks back at 0. The old tables are only renamed here (a change to the schema, instant): dropping
            // them reads every one of their pages (48 s for the 1.9 GB file of 10 M events, from disk), which would
            // hold up `serve`'s start and every other command's open. The indexer drops them in the background
            // (``dropRetiredTables()``); their pages are then reused as the new index grows.
            try db.execute(
                sql: """
                    DROP TABLE IF EXISTS events_fts_instance;
                    ALTER TABLE events_fts RENAME TO \("events_fts_v7");
                    CREATE VIRTUAL TABLE events_fts USING fts5(
                        line, program, fields, content='', tokenize='unicode61'
                    );
                    CREATE VIRTUAL TABLE events_fts_instance USING fts5vocab(events_fts, instance);
                    UPDATE fts_progress SET indexed_through = 0, attrs_indexed_through = 0;
                    """
            )
            // The settings the two tables had reached by v7 (see v3 to v7 for why).
            try Self.setOption(db, "automerge", 32, tables: ["events_fts"])
            try Self.setOption(db, "crisismerge", 64, tables: ["events_fts"])
            try Self.setOption(db, "hashsize", 8_388_608, tables: ["events_fts"])
            if try Int.fetchOne(db, sql: "PRAGMA page_size") == 16_384 {
                try Self.setOption(db, "pgsz", 16_000, tables: ["events_fts"])
            }
        }
        migrator.registerMigration("v9 split_after: the index in two files") { db in
            // The index is split across two files by event id (see FullTextLayout). A file indexed before holds
            // every event up to its watermark, whatever its id: that is where the split starts. A new file's is 0
            // here; FullTextIndexer.reconcile gives it the first file's.
            try db.execute(
                sql: """
                    ALTER TABLE fts_progress ADD COLUMN split_after INTEGER NOT NULL DEFAULT 0;
                    UPDATE fts_progress SET split_after = indexed_through;
                    """
            )
        }
        return migrator
    }

    /// The tables migration v8 retired (renamed, left for ``FullTextIndexer/dropRetiredTables()``).
    static let retiredTables = ["events_fts_v7", "events_attrs"]

    /// Sets an FTS5 option (it applies to what the table writes from then on) on full-text tables (before v8 there
    /// were two).
    private static func setOption(
        _ db: Database,
        _ option: String,
        _ value: Int,
        tables: [String] = ["events_fts", "events_attrs"]
    ) throws {
        for table in tables {
            try db.execute(sql: "INSERT INTO \(table) (\(table), rank) VALUES (?, ?)", arguments: [option, value])
        }
    }
}

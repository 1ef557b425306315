import FlightlogStore
import Foundation
public import GRDB

/// Full-text files as older versions left them, for tests of what reads and upgrades such files.
public enum OlderIndexFile {
    /// Turns a current first full-text file (its connection with the evidence database attached as `store`) into
    /// the layout index-file migration v7 left: the line in `events_fts`, `program` and the fields in
    /// `events_attrs`, every stored event indexed, one file (see ``singleFileSQL``), in one transaction.
    public static func writeTwoTableLayout(_ db: Database) throws {
        // The lines come from the store's signed batches, as the store's own indexer reads them.
        try EventContentFunctions.register(db, schema: "store")
        try db.inTransaction {
            try db.execute(sql: Self.twoTableLayoutSQL)
            return .commit
        }
    }

    private static let twoTableLayoutSQL = """
        DROP TABLE IF EXISTS events_fts_v7;
        DROP TABLE IF EXISTS events_attrs;
        DROP TABLE events_fts_instance;
        DROP TABLE events_fts;
        CREATE VIRTUAL TABLE events_fts USING fts5(line, content='', tokenize='unicode61');
        CREATE VIRTUAL TABLE events_fts_instance USING fts5vocab(events_fts, instance);
        CREATE VIRTUAL TABLE events_attrs USING fts5(program, fields, content='', columnsize=0, tokenize='unicode61');
        INSERT INTO events_fts (rowid, line) SELECT id, CAST(event_line(line, batch_id, idx) AS TEXT) FROM store.events;
        INSERT INTO events_attrs (rowid, program, fields) SELECT id, program, '' FROM store.events;
        UPDATE fts_progress SET indexed_through = (SELECT MAX(id) FROM store.events),
            attrs_indexed_through = (SELECT MAX(id) FROM store.events);
        DELETE FROM grdb_migrations WHERE identifier LIKE 'v8 %';
        """ + Self.singleFileSQL

    /// Turns a current first full-text file into one from before index-file migration v9, when the index was one
    /// file: no `split_after`. The file must hold every event up to its watermark, as such a file did, and the
    /// second file must go (``removeSecondFile(of:)``).
    public static let singleFileSQL = """
        ALTER TABLE fts_progress DROP COLUMN split_after;
        DELETE FROM grdb_migrations WHERE identifier LIKE 'v9 %';
        """

    /// Removes the second full-text file of the evidence database at `databasePath`, with its `-wal` and `-shm`.
    public static func removeSecondFile(of databasePath: String) {
        let path = FullTextLayout.path(for: databasePath, file: 1)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

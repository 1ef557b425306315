/// The full-text file as index-file migration v7 left it: the line in `events_fts`, `program` and the fields in
/// `events_attrs`, filled from the stored events, for tests of what reads and upgrades such a file.
public enum OlderIndexFile {
    /// Turns a current full-text file (its connection with the evidence database attached as `store`) into the
    /// two-table layout, every stored event indexed, in one transaction.
    public static let twoTableLayoutSQL = """
        DROP TABLE IF EXISTS events_fts_v7;
        DROP TABLE IF EXISTS events_attrs;
        DROP TABLE events_fts_instance;
        DROP TABLE events_fts;
        CREATE VIRTUAL TABLE events_fts USING fts5(line, content='', tokenize='unicode61');
        CREATE VIRTUAL TABLE events_fts_instance USING fts5vocab(events_fts, instance);
        CREATE VIRTUAL TABLE events_attrs USING fts5(program, fields, content='', columnsize=0, tokenize='unicode61');
        INSERT INTO events_fts (rowid, line) SELECT id, CAST(line AS TEXT) FROM store.events;
        INSERT INTO events_attrs (rowid, program, fields) SELECT id, program, '' FROM store.events;
        UPDATE fts_progress SET indexed_through = (SELECT MAX(id) FROM store.events),
            attrs_indexed_through = (SELECT MAX(id) FROM store.events);
        DELETE FROM grdb_migrations WHERE identifier LIKE 'v8 %';
        """
}

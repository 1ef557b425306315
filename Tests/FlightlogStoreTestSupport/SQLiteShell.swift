import GRDB

/// Raw SQL against a database file, as an intruder with file access would run it.
public enum SQLiteShell {
    public static func execute(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }
}

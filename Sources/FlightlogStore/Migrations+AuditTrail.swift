import GRDB

extension Migrations {
    /// "v3 audit trail": what investigators did, append-only and hash-chained (see ``AuditTrail``).
    ///
    /// Registered after every earlier migration so that branches adding their own (such as "v2 transparency log")
    /// merge without renumbering. The triggers make accidental edits fail; the hash chain makes deliberate ones
    /// (with the triggers dropped) detectable.
    static func registerAuditTrail(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3 audit trail") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit (
                        id INTEGER PRIMARY KEY,
                        at_ns INTEGER NOT NULL,
                        who TEXT NOT NULL,
                        command TEXT NOT NULL,
                        arguments TEXT NOT NULL,
                        result_count INTEGER,
                        outcome TEXT NOT NULL,
                        prev_hash BLOB NOT NULL,
                        hash BLOB NOT NULL
                    );
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    """
            )
        }
    }
}

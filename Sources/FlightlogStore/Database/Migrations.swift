import FlightlogEvidence
import FlightlogWire
import Foundation
import GRDB

/// The schema, as a sequence of migrations. A migration is never edited once shipped: add a new one.
///
/// Unsigned 64-bit protocol values (epochs, sequences) are stored as the signed integer with the same bits.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 agents, chains, batches, events, findings, handshakes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE agents (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        public_key BLOB NOT NULL UNIQUE,
                        key_id BLOB NOT NULL UNIQUE,
                        enrolled_ns INTEGER NOT NULL,
                        revoked_ns INTEGER,
                        last_seen_ns INTEGER,
                        last_skew_ns INTEGER,
                        last_address TEXT
                    );
                    CREATE TABLE chains (
                        agent_id INTEGER NOT NULL REFERENCES agents(id),
                        epoch INTEGER NOT NULL,
                        first_seen_ns INTEGER NOT NULL,
                        updated_ns INTEGER NOT NULL,
                        head_seq INTEGER NOT NULL,
                        head_hash BLOB NOT NULL,
                        batches INTEGER NOT NULL DEFAULT 0,
                        events INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (agent_id, epoch)
                    ) WITHOUT ROWID;
                    CREATE TABLE batches (
                        id INTEGER PRIMARY KEY,
                        agent_id INTEGER NOT NULL REFERENCES agents(id),
                        epoch INTEGER NOT NULL,
                        seq INTEGER NOT NULL,
                        hash BLOB NOT NULL,
                        prev_hash BLOB NOT NULL,
                        created_ns INTEGER NOT NULL,
                        first_ns INTEGER NOT NULL,
                        last_ns INTEGER NOT NULL,
                        event_count INTEGER NOT NULL,
                        received_ns INTEGER NOT NULL,
                        first_event_id INTEGER NOT NULL,
                        envelope BLOB NOT NULL,
                        UNIQUE (agent_id, epoch, seq)
                    );
                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY,
                        batch_id INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        agent_id INTEGER NOT NULL,
                        time_ns INTEGER NOT NULL,
                        observed_ns INTEGER NOT NULL,
                        received_ns INTEGER NOT NULL,
                        flags INTEGER NOT NULL,
                        host TEXT NOT NULL,
                        source TEXT NOT NULL,
                        program TEXT,
                        pid INTEGER,
                        user TEXT,
                        src_ip TEXT,
                        severity TEXT,
                        line BLOB NOT NULL,
                        fields TEXT NOT NULL
                    );
                    CREATE INDEX events_time ON events(time_ns);
                    CREATE INDEX events_host_time ON events(host, time_ns);
                    CREATE INDEX events_user_time ON events(user, time_ns) WHERE user IS NOT NULL;
                    CREATE INDEX events_ip_time ON events(src_ip, time_ns) WHERE src_ip IS NOT NULL;
                    CREATE VIRTUAL TABLE events_fts USING fts5(line, content='', tokenize='unicode61');
                    CREATE TABLE findings (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        agent_id INTEGER,
                        epoch INTEGER,
                        from_seq INTEGER,
                        to_seq INTEGER,
                        batch_hash BLOB,
                        other_hash BLOB,
                        detail TEXT NOT NULL,
                        at_ns INTEGER NOT NULL
                    );
                    CREATE INDEX findings_agent ON findings(agent_id, kind);
                    CREATE TABLE handshakes (
                        id INTEGER PRIMARY KEY,
                        at_ns INTEGER NOT NULL,
                        peer TEXT NOT NULL,
                        public_key BLOB,
                        agent_id INTEGER,
                        agent_name TEXT,
                        epoch INTEGER,
                        skew_ns INTEGER,
                        outcome TEXT NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v2 transparency log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE merkle_leaves (
                        leaf_index INTEGER PRIMARY KEY,
                        batch_id INTEGER NOT NULL UNIQUE
                    );
                    CREATE TABLE merkle_nodes (
                        level INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        hash BLOB NOT NULL,
                        PRIMARY KEY (level, idx)
                    ) WITHOUT ROWID;
                    CREATE TABLE checkpoints (
                        id INTEGER PRIMARY KEY,
                        tree_size INTEGER NOT NULL,
                        root_hash BLOB NOT NULL,
                        signed_ns INTEGER NOT NULL,
                        origin TEXT NOT NULL,
                        note TEXT NOT NULL
                    );
                    CREATE TABLE verify_runs (
                        id INTEGER PRIMARY KEY,
                        started_ns INTEGER NOT NULL,
                        finished_ns INTEGER NOT NULL,
                        mode TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        batches INTEGER NOT NULL,
                        events INTEGER NOT NULL,
                        findings INTEGER NOT NULL,
                        max_batch_id INTEGER NOT NULL,
                        max_event_id INTEGER NOT NULL,
                        tree_size INTEGER NOT NULL,
                        summary TEXT NOT NULL
                    );
                    CREATE VIRTUAL TABLE events_fts_instance USING fts5vocab(events_fts, instance);
                    """
            )
            try Self.backfillTransparencyLog(db)
        }
        // "v3 audit trail": what investigators did, append-only and hash-chained (see ``AuditTrail``). The triggers
        // make accidental edits fail; the hash chain makes deliberate ones (with the triggers dropped) detectable.
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
        migrator.registerMigration("v4 full-text index in its own file") { db in
            // The index moves to `<database>.fts` (see FullTextIndexer), rebuilt there from the stored events.
            try db.execute(
                sql: """
                    DROP TABLE main.events_fts_instance;
                    DROP TABLE main.events_fts;
                    """
            )
        }
        migrator.registerMigration("v5 source-IP index led by the event-id range") { db in
            // Source IPs are all over the key space, so every new event's entry landed on a random page of
            // events_ip_time: once that index outgrew the cache, each commit rewrote most of its pages to the WAL
            // and again at the checkpoint (27 µs of CPU per event past 3 M events, against 19 without the index).
            // Led by `id >> 18`, new entries only touch the subtree of the newest 262,144 ids. Lookups by IP probe
            // every range (see SQLiteStore.sourceIPRangeTerm): a few hundred seeks on a very large store.
            try db.execute(
                sql: """
                    DROP INDEX events_ip_time;
                    CREATE INDEX events_ip_range ON events(id >> 18, src_ip, time_ns) WHERE src_ip IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("v6 enrolment tokens, key history, rotations") { db in
            // Tokens are stored as SHA-256 of the secret: the database never holds one that could enrol a key.
            // agents.public_key stays the current key (the one handshakes are checked against); agent_keys holds
            // every key an agent has had, with when it held it, so that verify checks each batch against the key
            // of its time; rotations holds the signed hand-over records.
            try db.execute(
                sql: """
                    CREATE TABLE enrolment_tokens (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        token_hash BLOB NOT NULL UNIQUE,
                        created_ns INTEGER NOT NULL,
                        expires_ns INTEGER NOT NULL,
                        reenroll INTEGER NOT NULL DEFAULT 0,
                        created_by TEXT NOT NULL,
                        used_ns INTEGER,
                        used_key BLOB,
                        used_peer TEXT,
                        revoked_ns INTEGER
                    );
                    CREATE TABLE agent_keys (
                        id INTEGER PRIMARY KEY,
                        agent_id INTEGER NOT NULL REFERENCES agents(id),
                        public_key BLOB NOT NULL UNIQUE,
                        key_id BLOB NOT NULL UNIQUE,
                        from_ns INTEGER NOT NULL,
                        until_ns INTEGER,
                        how TEXT NOT NULL
                    );
                    CREATE INDEX agent_keys_agent ON agent_keys(agent_id, from_ns);
                    CREATE TABLE rotations (
                        id INTEGER PRIMARY KEY,
                        agent_id INTEGER NOT NULL REFERENCES agents(id),
                        new_epoch INTEGER NOT NULL,
                        record BLOB NOT NULL UNIQUE,
                        received_ns INTEGER NOT NULL
                    );
                    INSERT INTO agent_keys (agent_id, public_key, key_id, from_ns, until_ns, how)
                        SELECT id, public_key, key_id, enrolled_ns, NULL, 'enrolled' FROM agents;
                    """
            )
        }
        migrator.registerMigration("v7 catalogue of field keys, programs and sources") { db in
            // What `hunt` reports rules against ("a field it tests is in no stored event"). Filled at ingest, one row
            // per name; here from what is stored (one pass over every event's fields).
            try db.execute(
                sql: """
                    CREATE TABLE catalogue (
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        PRIMARY KEY (kind, name)
                    ) WITHOUT ROWID;
                    INSERT OR IGNORE INTO catalogue (kind, name)
                        SELECT DISTINCT 'field', j.key FROM events e, json_each(e.fields) j WHERE j.key IS NOT NULL;
                    INSERT OR IGNORE INTO catalogue (kind, name)
                        SELECT DISTINCT 'program', program FROM events WHERE program IS NOT NULL;
                    INSERT OR IGNORE INTO catalogue (kind, name) SELECT DISTINCT 'source', source FROM events;
                    """
            )
        }
        migrator.registerMigration("v8 catalogue of audit views") { db in
            // The values of `audit_view` (the agent's linked audit events), which hunt checks a Sysmon category
            // against. Filled at ingest; here from what is stored, for a store that holds the field from elsewhere.
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO catalogue (kind, name)
                        SELECT DISTINCT 'audit_view', json_extract(fields, '$.audit_view') FROM events
                        WHERE fields LIKE '%"audit_view"%' AND json_extract(fields, '$.audit_view') IS NOT NULL;
                    """
            )
        }
        return migrator
    }

    /// Migration v2's backfill, as it was written: every stored batch becomes a leaf of the new transparency log, in
    /// batch-id order (the order they were accepted), with the complete subtrees' roots in `merkle_nodes`. Kept here
    /// rather than calling the store's log code, so that a later change there cannot change what v2 did.
    private static func backfillTransparencyLog(_ db: Database) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT b.id, b.epoch, b.seq, b.received_ns, b.hash, a.key_id FROM batches b
                JOIN agents a ON a.id = b.agent_id
                WHERE b.id NOT IN (SELECT batch_id FROM merkle_leaves) ORDER BY b.id
                """
        )
        var size = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM merkle_leaves") ?? 0
        for row in rows {
            guard let id = Int64.fromDatabaseValue(row["id"]),
                let epoch = Int64.fromDatabaseValue(row["epoch"]),
                let seq = Int64.fromDatabaseValue(row["seq"]),
                let received = Int64.fromDatabaseValue(row["received_ns"]),
                let hash = Bytes32(data: Data.fromDatabaseValue(row["hash"])),
                let keyID = Bytes32(data: Data.fromDatabaseValue(row["key_id"]))
            else { continue }
            let leaf = TransparencyLeaf(
                keyID: keyID,
                epoch: UInt64(bitPattern: epoch),
                sequence: UInt64(bitPattern: seq),
                receivedNanos: received,
                batchHash: hash
            )
            try db.execute(
                sql: "INSERT INTO merkle_leaves (leaf_index, batch_id) VALUES (?, ?)",
                arguments: [size, id]
            )
            var node = leaf.hash
            var level = 0
            var position = size
            try db.execute(
                sql: "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)",
                arguments: [level, position, Data(node.bytes)]
            )
            // A right child completes its parent: combine with the stored left sibling, one level at a time.
            while position & 1 == 1 {
                guard
                    let left = Bytes32(
                        data: try Data.fetchOne(
                            db,
                            sql: "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?",
                            arguments: [level, position - 1]
                        )
                    )
                else { throw StoreError.database("transparency log node (\(level), \(position - 1)) is missing") }
                node = MerkleTree.nodeHash(left, node)
                level += 1
                position >>= 1
                try db.execute(
                    sql: "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)",
                    arguments: [level, position, Data(node.bytes)]
                )
            }
            size += 1
        }
    }
}

/// The PostgreSQL store's schema, created by the first program that opens an empty database (under an advisory lock,
/// so that several nodes starting together create it once).
///
/// It follows the SQLite store's tables (Migrations.swift) with PostgreSQL's types: BYTEA for hashes, keys, envelopes
/// and lines (a line is bytes exactly as read, not always UTF-8), BIGINT for nanoseconds and for the unsigned
/// epochs and sequences (stored as the signed integer with the same bits, as in SQLite). Two differences:
///
/// - `events` has five B-tree indexes where the SQLite store's has four: its primary key (batch, index, time: the
///   partition key must be in it) serves the reads by batch; time per agent, host, user and source IP serve the
///   filters. (An index on `id` and one on (batch, index) beside a (time, batch, index) key served nothing
///   `--store` reads; without them PostgreSQL's CPU per event at ingest went from 32.5 to 30.3 µs, one run each,
///   within this machine's noise: Benchmarks/postgres-nodes.sh.)
/// - `events` is partitioned by event time, one partition a month (`events_2026_12`), created before the first event
///   of that month is stored, so that an old month can be detached and archived (`ALTER TABLE events DETACH
///   PARTITION events_2025_01`). Times before 2000 or from 2100 on (a clock gone wrong, or a peer that lies) go to
///   two fixed edge partitions: a peer cannot make the store create more than 1,200 tables.
/// - `merkle_state` holds the transparency log's size in one row. An ingest transaction locks its agents' rows
///   first (in id order: they order each agent's chain checks across nodes) and this row last, only to append the
///   leaves of the batches it stored: that lock puts every node's batches into one total order, and is held for a
///   few statements and the commit rather than for the whole transaction.
enum PostgresSchema {
    /// The schema's versions after the first, in order: each script runs once, in the transaction that records it.
    static let migrations: [(version: Int, script: String)] = [
        (1, Self.create), (2, Self.audit), (3, Self.tokens), (4, Self.rotations), (5, Self.eventIDs),
        (6, Self.tokenBloom), (7, Self.verifyRuns),
    ]

    static var version: Int { Self.migrations.last?.version ?? 0 }

    /// v7: the record of each `verify` run (`verify --history`, a report's "last verify"), as the SQLite store's
    /// `verify_runs`, with the node or host that ran it.
    static let verifyRuns = """
        CREATE TABLE verify_runs (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            started_ns BIGINT NOT NULL,
            finished_ns BIGINT NOT NULL,
            mode TEXT NOT NULL,
            scope TEXT NOT NULL,
            outcome TEXT NOT NULL,
            batches BIGINT NOT NULL,
            events BIGINT NOT NULL,
            findings BIGINT NOT NULL,
            tree_size BIGINT NOT NULL,
            summary TEXT NOT NULL,
            host TEXT NOT NULL
        );
        """

    /// v6: a Bloom filter of each batch's line tokens (``TokenBloom``, as SQLite's `unicode61` tokenizer finds them):
    /// the batches a `--match` can match are those whose filter has every token it needs (``TokenRequirement``); FTS5
    /// then decides on their events. ~10 bits a distinct token (~4 KB for a batch of 1,000 lines), stored out of
    /// line uncompressed (it is random bits). A batch stored before holds NULL and is always read.
    static let tokenBloom = """
        ALTER TABLE batches ADD COLUMN token_bloom BYTEA;
        ALTER TABLE batches ALTER COLUMN token_bloom SET STORAGE EXTERNAL;
        """

    /// v5: events by id, on every partition: what `query --around`, a hunt's shared pass and the events behind a
    /// correlation hit look up (one probe per partition instead of a scan of each).
    static let eventIDs = """
        CREATE INDEX events_id ON events (id);
        """

    /// v4: key rotations (PROTOCOL.md §4.12), the signed records as received.
    static let rotations = """
        CREATE TABLE rotations (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            agent_id BIGINT NOT NULL REFERENCES agents(id),
            new_epoch BIGINT NOT NULL,
            record BYTEA NOT NULL UNIQUE,
            received_ns BIGINT NOT NULL
        );
        """

    /// v3: one-time enrolment tokens (PROTOCOL.md §4.10), stored as the SHA-256 of the secret.
    static let tokens = """
        CREATE TABLE enrolment_tokens (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL,
            token_hash BYTEA NOT NULL UNIQUE,
            created_ns BIGINT NOT NULL,
            expires_ns BIGINT NOT NULL,
            reenroll BOOLEAN NOT NULL DEFAULT FALSE,
            created_by TEXT NOT NULL,
            used_ns BIGINT,
            used_key BYTEA,
            used_peer TEXT,
            revoked_ns BIGINT
        );
        """

    /// v2: the investigators' audit trail, the SQLite store's table and hash chain (AuditTrail.swift), append-only:
    /// a trigger refuses every UPDATE and DELETE, whoever asks (an owner can drop the trigger, which `verify`'s chain
    /// check then catches in any row changed).
    static let audit = """
        CREATE TABLE audit (
            id BIGINT PRIMARY KEY,
            at_ns BIGINT NOT NULL,
            who TEXT NOT NULL,
            command TEXT NOT NULL,
            arguments TEXT NOT NULL,
            result_count BIGINT,
            outcome TEXT NOT NULL,
            prev_hash BYTEA NOT NULL,
            hash BYTEA NOT NULL
        );
        CREATE FUNCTION flightlog_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit trail is append-only';
        END $$;
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION flightlog_audit_append_only();
        """

    /// An arbitrary key for `pg_advisory_xact_lock`, held while the schema is created or migrated.
    static let migrationLock: Int64 = 0x466c_6967_6874_6c67  // "Flightlg"

    static let create = """
        CREATE TABLE agents (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            public_key BYTEA NOT NULL UNIQUE,
            key_id BYTEA NOT NULL UNIQUE,
            enrolled_ns BIGINT NOT NULL,
            revoked_ns BIGINT,
            last_seen_ns BIGINT,
            last_skew_ns BIGINT,
            last_address TEXT
        );
        CREATE TABLE agent_keys (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            agent_id BIGINT NOT NULL REFERENCES agents(id),
            public_key BYTEA NOT NULL UNIQUE,
            key_id BYTEA NOT NULL,
            from_ns BIGINT NOT NULL,
            until_ns BIGINT,
            how TEXT NOT NULL
        );
        CREATE TABLE chains (
            agent_id BIGINT NOT NULL REFERENCES agents(id),
            epoch BIGINT NOT NULL,
            first_seen_ns BIGINT NOT NULL,
            updated_ns BIGINT NOT NULL,
            head_seq BIGINT NOT NULL,
            head_hash BYTEA NOT NULL,
            batches BIGINT NOT NULL DEFAULT 0,
            events BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (agent_id, epoch)
        );
        CREATE TABLE batches (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            agent_id BIGINT NOT NULL REFERENCES agents(id),
            epoch BIGINT NOT NULL,
            seq BIGINT NOT NULL,
            hash BYTEA NOT NULL,
            prev_hash BYTEA NOT NULL,
            created_ns BIGINT NOT NULL,
            first_ns BIGINT NOT NULL,
            last_ns BIGINT NOT NULL,
            event_count INTEGER NOT NULL,
            received_ns BIGINT NOT NULL,
            node TEXT NOT NULL,
            envelope BYTEA NOT NULL,
            UNIQUE (agent_id, epoch, seq)
        );
        -- The envelope is zlib-compressed and signed already: stored out of line without PostgreSQL's own
        -- compression, which found nothing to gain and cost 3 % of its CPU per event at ingest.
        ALTER TABLE batches ALTER COLUMN envelope SET STORAGE EXTERNAL;
        CREATE SEQUENCE event_ids AS BIGINT;
        CREATE TABLE events (
            id BIGINT NOT NULL DEFAULT nextval('event_ids'),
            batch_id BIGINT NOT NULL,
            idx INTEGER NOT NULL,
            agent_id BIGINT NOT NULL,
            time_ns BIGINT NOT NULL,
            observed_ns BIGINT NOT NULL,
            received_ns BIGINT NOT NULL,
            flags INTEGER NOT NULL,
            host TEXT NOT NULL,
            source TEXT NOT NULL,
            program TEXT,
            pid BIGINT,
            "user" TEXT,
            src_ip TEXT,
            severity TEXT,
            line BYTEA NOT NULL,
            fields TEXT NOT NULL,
            PRIMARY KEY (batch_id, idx, time_ns)
        ) PARTITION BY RANGE (time_ns);
        CREATE TABLE events_before_2000 PARTITION OF events FOR VALUES FROM (MINVALUE) TO (946684800000000000);
        CREATE TABLE events_from_2100 PARTITION OF events FOR VALUES FROM (4102444800000000000) TO (MAXVALUE);
        CREATE INDEX events_agent_time ON events (agent_id, time_ns);
        CREATE INDEX events_host_time ON events (host, time_ns);
        CREATE INDEX events_user_time ON events ("user", time_ns) WHERE "user" IS NOT NULL;
        CREATE INDEX events_ip_time ON events (src_ip, time_ns) WHERE src_ip IS NOT NULL;
        CREATE TABLE catalogue (kind TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (kind, name));
        CREATE TABLE findings (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind TEXT NOT NULL,
            agent_id BIGINT,
            epoch BIGINT,
            from_seq BIGINT,
            to_seq BIGINT,
            batch_hash BYTEA,
            other_hash BYTEA,
            detail TEXT NOT NULL,
            at_ns BIGINT NOT NULL
        );
        CREATE INDEX findings_agent ON findings (agent_id, kind);
        CREATE TABLE handshakes (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at_ns BIGINT NOT NULL,
            peer TEXT NOT NULL,
            node TEXT NOT NULL,
            public_key BYTEA,
            agent_id BIGINT,
            agent_name TEXT,
            epoch BIGINT,
            skew_ns BIGINT,
            outcome TEXT NOT NULL
        );
        CREATE TABLE merkle_state (
            singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
            size BIGINT NOT NULL
        );
        INSERT INTO merkle_state (size) VALUES (0);
        CREATE TABLE merkle_leaves (leaf_index BIGINT PRIMARY KEY, batch_id BIGINT NOT NULL UNIQUE);
        CREATE TABLE merkle_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
                                   PRIMARY KEY (level, idx));
        CREATE TABLE checkpoints (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tree_size BIGINT NOT NULL,
            root_hash BYTEA NOT NULL,
            signed_ns BIGINT NOT NULL,
            origin TEXT NOT NULL,
            note TEXT NOT NULL
        );
        CREATE FUNCTION flightlog_month_partition(name TEXT, low BIGINT, high BIGINT) RETURNS VOID
        LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES FROM (%s) TO (%s)',
                           name, low, high);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            -- Another node created it at the same moment.
            NULL;
        END $$;
        """
}

/// One calendar month (UTC) of event times: the range of one partition of `events`.
struct MonthPartition: Hashable, Sendable {
    var year: Int
    var month: Int

    /// The months of 2000 to 2099 have their own partition; other times go to the two edge partitions.
    static let covered: Range<Int64> = 946_684_800_000_000_000..<4_102_444_800_000_000_000

    /// The month holding `nanos`, or nil for a time in an edge partition.
    init?(nanos: Int64) {
        guard Self.covered.contains(nanos) else { return nil }
        let days = Int(nanos / 86_400_000_000_000)
        // Howard Hinnant's civil_from_days, for days since 1970-01-01 (non-negative here).
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        self.year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
    }

    init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// `events_2026_12`.
    var name: String { "events_\(self.year)_" + (self.month < 10 ? "0" : "") + String(self.month) }

    /// The first nanosecond of the month.
    var lowerNanos: Int64 { Int64(Self.daysFromCivil(self.year, self.month)) * 86_400_000_000_000 }

    /// The first nanosecond of the next month.
    var upperNanos: Int64 {
        let next =
            self.month == 12
            ? MonthPartition(year: self.year + 1, month: 1)
            : MonthPartition(year: self.year, month: self.month + 1)
        return next.lowerNanos
    }

    /// Days since 1970-01-01 of the first day of the month (Hinnant's days_from_civil).
    private static func daysFromCivil(_ year: Int, _ month: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

public import FlightlogStore
import Foundation
public import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The evidence storage on PostgreSQL: several `flightlog serve` nodes on one database (docs/SCALE-OUT.md).
///
/// It implements what the aggregator needs (``EvidenceStore``, ``TransparencyStore``) and enrolment, revocation and
/// the agent listing, with the SQLite store's semantics: the unique (agent, epoch, sequence) key deduplicates across
/// nodes, and one lock orders every node's ingest transactions (``PostgresSchema``). `query` reads events with the
/// plain filters (``forEachEvent(_:_:)``); the rest of the investigator's commands are SQLite-only for now.
public final class PostgresStore: Sendable {
    /// The address, without the password.
    public let location: PostgresLocation
    /// This node's name in `batches.node` and `handshakes.node`: which aggregator stored a batch.
    public let node: String
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// The month partitions known to exist (created by this process or found): a batch's months are looked up here
    /// before its transaction, and created outside it when missing.
    let knownMonths = Mutex<Set<MonthPartition>>([])
    /// For each stored batch's line tokens (``LineTokenizer``).
    let tokenizers = LineTokenizerPool()

    /// How long PostgreSQL lets a session of this store sit idle inside a transaction before it ends it.
    public static let idleInTransactionSeconds = 5

    /// Connects (up to `maxConnections` at a time; `node` defaults to the host name); with `create`, makes the
    /// schema in an empty database, else refuses one and creates the schema in an empty database.
    public static func open(
        _ location: PostgresLocation,
        node: String? = nil,
        maxConnections: Int = 8,
        create: Bool = true,
        readOnly: Bool = false,
        logger: Logger = Logger(label: "flightlog.postgres")
    ) async throws(StoreError) -> PostgresStore {
        // One connection made directly first: the pool retries a failing connect for about a minute and then says
        // only that its circuit breaker tripped; this says at once why (refused, no such database, a password
        // refused, a certificate not trusted).
        try await Self.probe(location)
        let store = PostgresStore(
            location,
            node: node ?? ProcessInfo.processInfo.hostName,
            maxConnections: maxConnections,
            logger: logger
        )
        do {
            if readOnly {
                try await store.checkSchema()
            } else {
                try await store.migrate(create: create)
            }
        } catch {
            store.close()
            throw StoreError.cannotOpen(path: location.description, reason: PostgresStore.describe(error))
        }
        return store
    }

    /// The client TLS configuration of `sslmode`; nil for `disable`.
    static func tlsConfiguration(_ mode: PostgresLocation.TLSMode) -> TLSConfiguration? {
        switch mode {
        case .disable:
            return nil
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return configuration
        case .verifyFull:
            return .makeClientConfiguration()
        }
    }

    /// Connects once, with a 10 s timeout, and disconnects; throws ``StoreError/cannotOpen(path:reason:)`` with the
    /// reason.
    static func probe(_ location: PostgresLocation) async throws(StoreError) {
        do {
            let tls: PostgresConnection.Configuration.TLS =
                try Self.tlsConfiguration(location.tls).map { .require(try NIOSSLContext(configuration: $0)) }
                ?? .disable
            var configuration = PostgresConnection.Configuration(
                host: location.host,
                port: location.port,
                username: location.user,
                password: location.password,
                database: location.database,
                tls: tls
            )
            configuration.options.connectTimeout = .seconds(10)
            let connection = try await PostgresConnection.connect(
                configuration: configuration,
                id: 0,
                logger: Logger(label: "flightlog.postgres.probe", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            try? await connection.close()
        } catch {
            throw StoreError.cannotOpen(path: location.description, reason: Self.describe(error))
        }
    }

    private init(_ location: PostgresLocation, node: String, maxConnections: Int, logger: Logger) {
        let tls: PostgresClient.Configuration.TLS = Self.tlsConfiguration(location.tls).map { .require($0) } ?? .disable
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: tls
        )
        configuration.options.maximumConnections = max(1, maxConnections)
        // A node frozen in the middle of a transaction (SIGSTOP, a VM paused, a process swapped out) holds the
        // transparency log's lock and its agents' row locks, and every other node's ingest and handshakes wait for
        // it. PostgreSQL ends such a session after this long idle inside a transaction, which rolls it back and
        // frees the locks; the frozen node's batches were not acknowledged and its agents send them to another
        // node. No transaction of this store waits on its client for more than milliseconds while it works.
        //
        // synchronous_commit = on whatever the server's default: an ACK promises a durable commit, so a commit must
        // wait for the local WAL flush and, where the operator configured synchronous standbys, for theirs.
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", "\(Self.idleInTransactionSeconds)s"),
            ("synchronous_commit", "on"),
        ]
        configuration.options.connectTimeout = .seconds(10)
        // The pool's own messages at error level: it warns once per lease made before its run loop has started,
        // which `open` does at once.
        var background = logger
        background.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.location = location
        self.node = node
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    /// What the server's settings mean for an acknowledged batch, for `serve` to log at start; throws when a commit
    /// would not be durable at all (`fsync` off), which `serve` refuses.
    public func durability() async throws(StoreError) -> String {
        let settings = try await self.connection { connection in
            var values: [String] = []
            for name in ["fsync", "synchronous_commit", "synchronous_standby_names", "full_page_writes"] {
                let rows = try await connection.query(PostgresQuery(unsafeSQL: "SHOW \(name)"), logger: self.logger)
                for try await value in rows.decode(String.self) { values.append(value) }
            }
            return values
        }
        guard settings.count == 4 else { throw StoreError.database("cannot read the server's durability settings") }
        if settings[0] != "on" || settings[3] != "on" {
            throw StoreError.database(
                "the server runs with fsync = \(settings[0]), full_page_writes = \(settings[3]): a commit is not durable, "
                    + "so no batch could be acknowledged; turn both on"
            )
        }
        return settings[2].isEmpty
            ? "commits wait for the server's own WAL flush (synchronous_commit = \(settings[1])); no synchronous "
                + "standby is configured, so a batch acknowledged just before a failover to a replica can be lost"
            : "commits wait for the WAL flush here and on the synchronous standbys '\(settings[2])' "
                + "(synchronous_commit = \(settings[1])): an acknowledged batch survives a failover to one of them"
    }

    /// Closes every connection; the store cannot be used afterwards.
    public func close() {
        self.runner.cancel()
    }

    deinit {
        self.runner.cancel()
    }

    /// For a store opened only to read (a hot standby, `--read-replica`): its schema must be this version's. Nothing
    /// is written, so a server in recovery serves.
    private func checkSchema() async throws {
        let version = try await self.connection { connection in
            let tables = try await connection.all(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'flightlog_schema'",
                Int.self,
                logger: self.logger
            )
            guard tables.first == 1 else { return -1 }
            return try await connection.all("SELECT max(version) FROM flightlog_schema", Int?.self, logger: self.logger)
                .first.flatMap { $0 } ?? 0
        }
        if version < 0 {
            throw StoreError.database("the database holds no Flightlog store: check the address")
        }
        if version != PostgresSchema.version {
            throw StoreError.database(
                "the store's schema is version \(version) and this flightlog's \(PostgresSchema.version): "
                    + (version < PostgresSchema.version
                        ? "a replica has it once it replays the primary's migration (start serve on the primary)"
                        : "upgrade flightlog")
            )
        }
    }

    /// Creates the schema when the database has none, under an advisory lock: nodes that start together wait for
    /// the first. Refuses a server in recovery (a hot standby) with what to do instead.
    private func migrate(create: Bool) async throws {
        let standby = try await self.connection { connection in
            try await connection.all("SELECT pg_is_in_recovery()", Bool.self, logger: self.logger).first ?? false
        }
        if standby {
            throw StoreError.database(
                "the server is a read replica (a hot standby, in recovery): nothing can be written there, the "
                    + "investigators' audit entries included. Give the primary with --store, and this address with "
                    + "--read-replica"
            )
        }
        try await self.client.withTransaction(logger: self.logger) { connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))",
                logger: self.logger
            )
            let exists = try await connection.query(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'flightlog_schema'",
                logger: self.logger
            )
            var found = 0
            for try await (count) in exists.decode(Int.self) { found = count }
            var current = 0
            if found == 0 {
                guard create else {
                    throw StoreError.database(
                        "the database holds no Flightlog store: `flightlog serve --store` or `flightlog enroll --store` "
                            + "creates one; check the address"
                    )
                }
                try await connection.query(
                    "CREATE TABLE flightlog_schema (version INTEGER NOT NULL)",
                    logger: self.logger
                )
            } else {
                let rows = try await connection.query("SELECT max(version) FROM flightlog_schema", logger: self.logger)
                for try await (version) in rows.decode(Int?.self) { current = version ?? 0 }
            }
            guard current <= PostgresSchema.version else {
                throw StoreError.database(
                    "the database's schema is version \(current); this flightlog knows version "
                        + "\(PostgresSchema.version) and older: upgrade flightlog"
                )
            }
            for migration in PostgresSchema.migrations where migration.version > current {
                for statement in Self.statements(migration.script) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO flightlog_schema (version) VALUES (\(migration.version))",
                    logger: self.logger
                )
            }
        }
    }

    /// The statements of a script, split at the semicolons that end a line outside a `$$` body.
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, line.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    // MARK: - Running statements

    /// Runs `body` in a transaction, the errors of PostgreSQL made ``StoreError/database(_:)`` with the server's
    /// own message.
    @discardableResult
    func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws(StoreError) -> Result {
        do {
            return try await self.client.withTransaction(logger: self.logger) { connection in
                try await body(connection)
            }
        } catch let error as StoreError {
            throw error
        } catch let error as PostgresTransactionError {
            // The closure's own refusal (a name already enrolled…) is the answer, not a database failure.
            if let refusal = error.closureError as? StoreError, error.rollbackError == nil { throw refusal }
            throw StoreError.database(Self.describe(error))
        } catch {
            throw StoreError.database(Self.describe(error))
        }
    }

    /// The connection of ``inSnapshot(_:)``, for the statements of the task running it.
    @TaskLocal static var snapshotConnection: PostgresConnection?

    /// Runs `body` with every statement this store runs for it (in this task) on one connection, inside one
    /// read-only REPEATABLE READ transaction: one snapshot of the store, whatever the nodes commit meanwhile. What
    /// `verify` reads while `serve` nodes store batches: without it, a leaf committed after the batches were read
    /// names a batch the run has not seen. The snapshot is held for the whole run (PostgreSQL keeps the rows it
    /// sees from vacuum meanwhile); the idle-in-transaction limit is lifted for it, as the client works between
    /// statements.
    func inSnapshot<Result: Sendable>(_ body: () async throws -> Result) async throws(StoreError) -> Result {
        do {
            return try await self.client.withConnection { connection in
                try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
                do {
                    try await connection.query("SET LOCAL idle_in_transaction_session_timeout = 0", logger: self.logger)
                    let result = try await Self.$snapshotConnection.withValue(connection) { try await body() }
                    try await connection.query("COMMIT", logger: self.logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: self.logger)
                    throw error
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(Self.describe(error))
        }
    }

    /// Runs `body` with a connection outside any transaction (inside ``inSnapshot(_:)``, on its connection).
    @discardableResult
    func connection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws(StoreError) -> Result {
        do {
            if let pinned = Self.snapshotConnection { return try await body(pinned) }
            return try await self.client.withConnection { connection in try await body(connection) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.database(Self.describe(error))
        }
    }

    /// PostgreSQL's message for an error (postgres-nio's own description hides it, as it may hold values).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            let parts: [(String, (any Error)?)] = [
                ("BEGIN", error.beginError), ("", error.closureError), ("ROLLBACK", error.rollbackError),
                ("COMMIT", error.commitError),
            ]
            return parts.compactMap { step, error in
                error.map { (step.isEmpty ? "" : step + ": ") + Self.describe($0) }
            }.joined(separator: "; ")
        }
        if let error = error as? PSQLError {
            if error.code == .sslUnsupported {
                return "the server does not offer TLS: enable ssl on it, or use sslmode=disable on loopback or an "
                    + "isolated network"
            }
            if let message = error.serverInfo?[.message] {
                let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
                return message + detail
            }
            if let underlying = error.underlying {
                if let io = underlying as? IOError { return "\(io.description)" }
                return "\(underlying)"
            }
            return "\(error.code)"
        }
        return "\(error)"
    }
}

extension PostgresConnection {
    /// The rows of `query` decoded as `T`.
    func all<T: PostgresDecodable & Sendable>(
        _ query: PostgresQuery,
        _ type: T.Type,
        logger: Logger
    ) async throws -> [T] {
        var out: [T] = []
        for try await value in try await self.query(query, logger: logger).decode(T.self) { out.append(value) }
        return out
    }
}

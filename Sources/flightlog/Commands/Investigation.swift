import ArgumentParser
import FlightlogEvidence
import FlightlogPostgres
import FlightlogStore
import Foundation

/// The store an investigator's command reads, the SQLite file or a PostgreSQL store (`--store`), and the audit trail
/// its run is recorded in. Opened by ``Investigation/open(_:_:)`` on a thread outside the cooperative pool (see
/// ``Investigation/run(_:)``): the PostgreSQL reader blocks its caller.
struct InvestigatedStore {
    let reader: any EventReading
    /// The SQLite store, when that is what was opened (its full-text progress, `--explain`).
    let sqlite: (any FlightlogStorage)?
    let postgres: PostgresStore?
    /// The hot standby read instead of `postgres` (`--read-replica`).
    var replica: PostgresStore? = nil
    /// The SQLite file (for the audit trail and messages).
    let database: String

    /// Appends this run's audit entry to the store's own trail; failing to record is itself an error (exit 2).
    func audit(_ command: String, count: Int?, outcome: String) throws(ExitCode) {
        guard let postgres else {
            try Investigation.audit(command, database: self.database, count: count, outcome: outcome)
            return
        }
        do {
            try Blocking.run { try await Investigation.audit(command, on: postgres, count: count, outcome: outcome) }
        } catch {
            throw error as? ExitCode ?? ExitCode(2)
        }
    }

    /// Records a failed run and exits 2.
    func fail(_ command: String, _ error: any Error) throws(ExitCode) -> Never {
        guard self.postgres != nil else { try Investigation.fail(command, database: self.database, error) }
        Output.error("\(error)")
        try? self.audit(command, count: nil, outcome: "error: \(error)")
        throw ExitCode(2)
    }

    func close() {
        self.postgres?.close()
        self.replica?.close()
    }
}

/// What every investigator command does around its work: open the database read-only, and record the audit entry.
enum Investigation {
    /// The store `--store` names, else the SQLite file `--db` names, opened for reading. Exit 2 with the reason when
    /// it cannot be opened.
    static func open(_ database: DatabaseOptions, _ store: StoreOptions) throws(ExitCode) -> InvestigatedStore {
        guard store.store != nil else {
            let sqlite = try Self.openStore(database.db)
            return InvestigatedStore(reader: sqlite, sqlite: sqlite, postgres: nil, database: database.db)
        }
        let opened: (primary: PostgresStore?, replica: PostgresStore?)
        do {
            opened = try Blocking.run {
                let primary = try await store.openPostgres()
                do {
                    return (primary, try await store.openReplica())
                } catch {
                    primary?.close()
                    throw error
                }
            }
        } catch {
            throw error as? ExitCode ?? ExitCode(2)
        }
        guard let primary = opened.primary else { throw ExitCode(2) }
        return InvestigatedStore(
            reader: PostgresEventReader(opened.replica ?? primary),
            sqlite: nil,
            postgres: primary,
            replica: opened.replica,
            database: database.db
        )
    }

    /// Runs a command's synchronous work on a thread of its own (``Blocking/onOwnThread(_:)``), where reading a
    /// PostgreSQL store may block.
    static func run(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await Blocking.onOwnThread(body)
    }

    static func openStore(_ path: String) throws(ExitCode) -> any FlightlogStorage {
        let store: any FlightlogStorage
        do {
            // An unreadable full-text file (derived, rebuilt by serve) does not stop what does not need it.
            store = try Storage.openReadOnly(path: path, onDamagedIndex: .leaveOut)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
        for file in store.leftOutFullText {
            Output.error(
                "warning: the full-text index \(file.path) cannot be read (\(file.reason)): --match cannot be answered and "
                    + "hunts check every event. The evidence database is not affected; `flightlog serve` moves the "
                    + "file aside and rebuilds the index when it starts"
            )
        }
        return store
    }

    /// The arguments after the subcommand name, as typed.
    static var arguments: [String] { Array(CommandLine.arguments.dropFirst(2)) }

    /// Appends the audit entry for this run; failing to record is itself an error (exit 2).
    static func audit(_ command: String, database: String, count: Int?, outcome: String) throws(ExitCode) {
        // A copy on a read-only file system (a write-blocked disk) cannot take the entry; the live store's trail is
        // the one that records investigators' work, and nothing on such media can change.
        if Storage.isOnReadOnlyMedia(database) {
            Output.error(
                "note: \(database) is on a read-only file system: this \(command) is not recorded in its audit trail"
            )
            return
        }
        do {
            try AuditTrail.record(Self.entry(command, count: count, outcome: outcome), databasePath: database)
        } catch {
            Output.error("could not record this \(command) in the audit trail: \(error)")
            throw ExitCode(2)
        }
    }

    /// Appends the audit entry for this run to a PostgreSQL store's trail; failing to record is itself an error
    /// (exit 2).
    static func audit(_ command: String, on store: PostgresStore, count: Int?, outcome: String) async throws(ExitCode) {
        do {
            try await store.recordAudit(Self.entry(command, count: count, outcome: outcome))
        } catch {
            Output.error("could not record this \(command) in the audit trail: \(error)")
            throw ExitCode(2)
        }
    }

    /// This run's audit entry: who, now, the arguments as typed.
    private static func entry(_ command: String, count: Int?, outcome: String) -> AuditEntry {
        AuditEntry(
            atNanos: nowNanos(),
            who: AuditTrail.currentUser(),
            command: command,
            arguments: Self.arguments,
            resultCount: count.map { Int64($0) },
            outcome: outcome
        )
    }

    /// Records a failed run and exits 2.
    static func fail(_ command: String, database: String, _ error: any Error) throws(ExitCode) -> Never {
        Output.error("\(error)")
        try? Self.audit(command, database: database, count: nil, outcome: "error: \(error)")
        throw ExitCode(2)
    }

    static func zone(_ name: String?) throws(ExitCode) -> TimeFormatter {
        guard let name else { return .utc }
        if name.uppercased() == "UTC" || name == "Z" { return .utc }
        guard let zone = TimeZone(identifier: name) else {
            Output.error("unknown time zone '\(name)': use an IANA name such as Europe/Paris or America/New_York")
            throw ExitCode(2)
        }
        return TimeFormatter(zone: zone)
    }
}

import ArgumentParser
import FlightlogPostgres
import FlightlogStore

/// `--store URL`: a PostgreSQL store instead of the SQLite file (docs/SCALE-OUT.md), on the commands that support it.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A PostgreSQL store instead of the SQLite file: postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full "
                + "(or require, disable); the password from the file FLIGHTLOG_PG_PASSWORD_FILE names, or "
                + "FLIGHTLOG_PG_PASSWORD, never from the command line. Example: --store postgres://flightlog@db1/flightlog",
            valueName: "url"
        )
    )
    var store: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --store, read from this hot standby of it instead (the reading commands: query, timeline, stats, "
                + "hunt, verify); the audit entry is still written to --store, the primary. The same password. "
                + "Example: --read-replica postgres://flightlog@db2/flightlog",
            valueName: "url"
        )
    )
    var readReplica: String?

    func validate() throws {
        if let store = self.store {
            do {
                _ = try PostgresLocation(store)
            } catch {
                throw ValidationError("--store: \(error)")
            }
        }
        if let replica = self.readReplica {
            guard self.store != nil else {
                throw ValidationError("--read-replica needs --store: the primary, where the audit entry is written")
            }
            do {
                _ = try PostgresLocation(replica)
            } catch {
                throw ValidationError("--read-replica: \(error)")
            }
        }
    }

    /// The hot standby named by --read-replica, opened to read only; nil without it. Exit 2 with the reason when it
    /// cannot be opened.
    func openReplica() async throws(ExitCode) -> PostgresStore? {
        guard let replica = self.readReplica else { return nil }
        do {
            return try await PostgresStore.open(try PostgresLocation(replica), create: false, readOnly: true)
        } catch {
            Output.error("--read-replica: \(error)")
            throw ExitCode(2)
        }
    }

    /// The PostgreSQL store named by --store, connected and migrated; nil without --store. Exit 2 with the reason when
    /// it cannot be opened. Only `create` makes the schema in an empty database: a reading command refuses one (a
    /// mistyped database name would otherwise gain an empty store).
    func openPostgres(node: String? = nil, create: Bool = false) async throws(ExitCode) -> PostgresStore? {
        guard let store = self.store else { return nil }
        do {
            return try await PostgresStore.open(try PostgresLocation(store), node: node, create: create)
        } catch {
            Output.error("\(error)")
            throw ExitCode(2)
        }
    }
}

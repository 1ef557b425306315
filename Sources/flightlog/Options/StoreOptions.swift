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

    func validate() throws {
        if let store = self.store {
            do {
                _ = try PostgresLocation(store)
            } catch {
                throw ValidationError("--store: \(error)")
            }
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

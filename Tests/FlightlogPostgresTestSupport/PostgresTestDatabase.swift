public import FlightlogPostgres
import FlightlogTestSupport
import Foundation
public import Logging
public import PostgresNIO

/// A database of its own on the PostgreSQL server that scripts/test.sh starts (scripts/postgres.sh): the server's
/// address in FLIGHTLOG_TEST_POSTGRES, its password in the file FLIGHTLOG_PG_PASSWORD_FILE names. Without them the
/// tests fail and say how to run them; they never skip.
public struct PostgresTestDatabase: Sendable {
    public let location: PostgresLocation
    public let name: String
    private let server: PostgresLocation

    /// The server's address, or a failure that says how to start one.
    public static func server() throws -> PostgresLocation {
        guard let url = ProcessInfo.processInfo.environment["FLIGHTLOG_TEST_POSTGRES"], !url.isEmpty else {
            throw TestFailure(
                "FLIGHTLOG_TEST_POSTGRES is not set: run the tests with scripts/test.sh, which starts a throwaway "
                    + "PostgreSQL (scripts/postgres.sh start DIR prints the variables to set by hand)"
            )
        }
        return try PostgresLocation(url)
    }

    /// The hot standby of that server that scripts/test.sh starts (FLIGHTLOG_TEST_POSTGRES_REPLICA), or a failure that
    /// says how to start one.
    public static func replicaServer() throws -> PostgresLocation {
        guard let url = ProcessInfo.processInfo.environment["FLIGHTLOG_TEST_POSTGRES_REPLICA"], !url.isEmpty else {
            throw TestFailure(
                "FLIGHTLOG_TEST_POSTGRES_REPLICA is not set: run the tests with scripts/test.sh, which starts a hot "
                    + "standby (scripts/postgres.sh replica DIR prints the variable to set by hand)"
            )
        }
        return try PostgresLocation(url)
    }

    /// Creates an empty database with a unique name.
    public static func make() async throws -> PostgresTestDatabase {
        let server = try Self.server()
        let name = "flightlog_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await Self.administer(server) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger)
        }
        return PostgresTestDatabase(location: server.with(database: name), name: name, server: server)
    }

    /// Drops the database (its connections closed first).
    public func drop() async {
        try? await Self.administer(self.server) { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(self.name) WITH (FORCE)"),
                logger: Self.logger
            )
        }
    }

    /// Runs `sql` on the test's own database, as an insider with the owner's password would (tamper tests).
    public func execute(_ sql: String) async throws {
        try await Self.administer(self.location) { connection in
            for statement in sql.components(separatedBy: "; ") {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger)
            }
        }
    }

    /// Runs `body` on one connection to the server's maintenance database.
    public static func administer(
        _ server: PostgresLocation,
        _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let configuration = PostgresConnection.Configuration(
            host: server.host,
            port: server.port,
            username: server.user,
            password: server.password,
            database: server.database,
            tls: .disable
        )
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Self.logger)
        } catch {
            throw TestFailure("cannot connect to \(server): \(String(reflecting: error))")
        }
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            // postgres-nio's own description hides the server's message; a failing test should show it.
            throw TestFailure(String(reflecting: error))
        }
        try await connection.close()
    }

    /// Polls `condition` every 100 ms until it holds (an error counts as not yet: a server starting, a standby still
    /// replaying); fails after `seconds`.
    public static func eventually(
        seconds: Double,
        _ what: String,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !((try? await condition()) ?? false) {
            guard Date() < deadline else { throw TestFailure("\(what): not within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    public static let logger = Logger(label: "flightlog.tests.postgres")
}

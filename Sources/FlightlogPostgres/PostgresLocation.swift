public import Foundation

/// Where a PostgreSQL store is: `postgres://USER@HOST:PORT/DATABASE?sslmode=MODE`, as `--store` takes it.
///
/// The password is never part of the address (a command line is visible to every user of the machine in `ps`): it is
/// read from the file named by `FLIGHTLOG_PG_PASSWORD_FILE`, or from `FLIGHTLOG_PG_PASSWORD`.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected, with libpq's names.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plaintext: loopback or an isolated network only.
        case disable
        /// TLS, without checking the server's certificate.
        case require
        /// TLS, the certificate checked against the system's trust store and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var tls: TLSMode
    public var password: String?

    /// The address without the password, for messages and the audit trail.
    public var description: String {
        "postgres://\(self.user)@\(self.host):\(self.port)/\(self.database)?sslmode=\(self.tls.rawValue)"
    }

    /// Whether `argument` names a PostgreSQL store rather than an SQLite file.
    public static func isPostgres(_ argument: String) -> Bool {
        argument.hasPrefix("postgres://") || argument.hasPrefix("postgresql://")
    }

    /// Parses `url`, reading the password as the type's documentation says; throws a message that says what is
    /// wrong.
    public init(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(Refusal) {
        guard Self.isPostgres(url), let components = URLComponents(string: url) else {
            throw Refusal("'\(url)' is not a PostgreSQL address: use postgres://USER@HOST:PORT/DATABASE")
        }
        if components.password != nil {
            throw Refusal(
                "the store address holds a password, which every user of this machine can read in `ps`: remove it, "
                    + "and put it in a file named by FLIGHTLOG_PG_PASSWORD_FILE (mode 0600)"
            )
        }
        guard let user = components.user, !user.isEmpty else {
            throw Refusal("the store address names no user: postgres://USER@HOST:PORT/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Refusal("the store address names no host: postgres://USER@HOST:PORT/DATABASE")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw Refusal("the store address names no database: postgres://USER@HOST:PORT/DATABASE")
        }
        var tls = TLSMode.verifyFull
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw Refusal("unknown store address parameter '\(item.name)': only sslmode is read")
            }
            guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                throw Refusal("sslmode must be disable, require or verify-full, got '\(item.value ?? "")'")
            }
            tls = mode
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.database = database
        self.tls = tls
        if let file = environment["FLIGHTLOG_PG_PASSWORD_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file),
                let text = String(data: data, encoding: .utf8)
            else {
                throw Refusal("FLIGHTLOG_PG_PASSWORD_FILE: cannot read \(file)")
            }
            self.password = text.trimmingCharacters(in: .newlines)
        } else {
            self.password = environment["FLIGHTLOG_PG_PASSWORD"]
        }
    }

    /// The same server and credentials, another database (the tests give each their own).
    public func with(database: String) -> PostgresLocation {
        var copy = self
        copy.database = database
        return copy
    }

    /// Why an address cannot be used.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}

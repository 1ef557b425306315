// swift-tools-version:6.0
import PackageDescription

// MARK: - Products of the dependencies, named once

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioConcurrency: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let nioTestUtils: Target.Dependency = .product(name: "NIOTestUtils", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let grdbSQLite: Target.Dependency = .product(name: "GRDBSQLite", package: "GRDB.swift")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals: Target.Dependency = .product(name: "UnixSignals", package: "swift-service-lifecycle")
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let x509: Target.Dependency = .product(name: "X509", package: "swift-certificates")
let asn1: Target.Dependency = .product(name: "SwiftASN1", package: "swift-asn1")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let coreMetrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")

let package = Package(
    name: "flightlog",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "flightlog", targets: ["flightlog"]),
        .executable(name: "flightlog-agent", targets: ["flightlog-agent"]),
        .library(name: "FlightlogWire", targets: ["FlightlogWire"]),
        .library(name: "FlightlogEvidence", targets: ["FlightlogEvidence"]),
        .library(name: "FlightlogSigma", targets: ["FlightlogSigma"]),
        .library(name: "FlightlogStore", targets: ["FlightlogStore"]),
        .library(name: "FlightlogPostgres", targets: ["FlightlogPostgres"]),
        .library(name: "FlightlogAgent", targets: ["FlightlogAgent"]),
        .library(name: "FlightlogAggregator", targets: ["FlightlogAggregator"]),
        .library(name: "FlightlogTLS", targets: ["FlightlogTLS"]),
        .library(name: "FlightlogSimulator", targets: ["FlightlogSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
    ],
    targets: [
        // MARK: - Libraries
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["libz-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CSQLiteTuning", path: "Sources/CSQLiteTuning"),
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate", providers: [.apt(["libdeflate-dev"])]),
        // libsystemd's sd-journal, for the agent's journal source; Linux only.
        .systemLibrary(name: "CSystemdJournal", path: "Sources/CSystemdJournal", providers: [.apt(["libsystemd-dev"])]),
        // The C structs of POSIX (stat, timespec, rlimit) behind Swift types, so that no other module reads their
        // members (see the settings below).
        .target(name: "FlightlogSystem"),
        // A pass-through SQLite VFS whose syncs a test build can make fail (RELIABILITY.md); registered only when a
        // test asks for it (`Failpoint`).
        .target(name: "CSQLiteFaults", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(name: "FlightlogWire", dependencies: ["CZlib", "CDeflate", nioCore, crypto]),
        .target(name: "FlightlogTLS", dependencies: ["FlightlogSystem", nioCore, nioSSL, x509, asn1, crypto]),
        // Pure: what a recipient needs to check evidence offline. Never GRDB, NIO sockets, logging or the store.
        .target(name: "FlightlogEvidence", dependencies: ["FlightlogWire", crypto]),
        // Pure: made-up call-center logs with a scripted incident, for the demo, the tests and the benchmarks.
        .target(name: "FlightlogSimulator", dependencies: ["FlightlogEvidence"]),
        // Pure: the Sigma rule language parsed into a typed tree. Never SQL: a store compiles the tree.
        .target(name: "FlightlogSigma", dependencies: [yams]),
        .target(
            name: "FlightlogStore",
            dependencies: [
                "FlightlogWire", "FlightlogEvidence", "FlightlogSigma", "FlightlogSystem", "CSQLiteTuning", "CDeflate",
                "CSQLiteFaults", grdb, grdbSQLite, crypto, logging,
            ]
        ),
        // The evidence storage on PostgreSQL (docs/SCALE-OUT.md): several aggregators on one database.
        .target(
            name: "FlightlogPostgres",
            dependencies: [
                "FlightlogStore", "FlightlogWire", "FlightlogEvidence", "FlightlogSigma", "FlightlogSystem", postgresNIO,
                nioCore, nioSSL, crypto, logging,
            ]
        ),
        // The Prometheus text endpoint both programs can serve (`/metrics`), and the exposition helpers.
        .target(
            name: "FlightlogMetrics",
            dependencies: [nioCore, nioPosix, nioHTTP1, coreMetrics, prometheus, logging, serviceLifecycle]
        ),
        .target(
            name: "FlightlogAgent",
            dependencies: [
                "FlightlogWire", "FlightlogTLS", "FlightlogSystem", "FlightlogMetrics", nioCore, nioPosix, nioConcurrency,
                nioSSL, crypto, logging, serviceLifecycle, yams, .target(name: "CSystemdJournal", condition: .when(platforms: [.linux])),
            ]
        ),
        .target(
            name: "FlightlogAggregator",
            dependencies: [
                "FlightlogWire", "FlightlogEvidence", "FlightlogStore", "FlightlogTLS", "FlightlogSystem", "FlightlogMetrics",
                nioCore, nioPosix, nioConcurrency, nioSSL, crypto, logging, serviceLifecycle, unixSignals, coreMetrics,
                prometheus,
            ]
        ),

        // MARK: - Executables
        .executableTarget(
            name: "flightlog",
            dependencies: [
                "FlightlogWire", "FlightlogEvidence", "FlightlogSigma", "FlightlogStore", "FlightlogPostgres",
                "FlightlogAggregator", "FlightlogTLS", "FlightlogSimulator", "CMalloc", argumentParser, logging, serviceLifecycle, yams, x509,
            ]
        ),
        .executableTarget(
            name: "flightlog-agent",
            dependencies: ["FlightlogAgent", "FlightlogTLS", "CMalloc", argumentParser, logging, crypto]
        ),

        // MARK: - Tests
        // What any test target may use: temporary directories, child processes, the built executables, a protocol
        // client made of FlightlogWire alone. Never the store or the aggregator.
        .target(
            name: "FlightlogTestSupport",
            dependencies: ["FlightlogWire", "FlightlogSystem", nioCore, nioPosix, nioConcurrency, crypto],
            path: "Tests/FlightlogTestSupport"
        ),
        // Evidence databases built through the store's ingest, with no server: for the tests of the store, of the
        // `flightlog` executable and of what the aggregator leaves in a database. Never the aggregator.
        .target(
            name: "FlightlogStoreTestSupport",
            dependencies: ["FlightlogTestSupport", "FlightlogStore", "FlightlogEvidence", "FlightlogWire", grdb],
            path: "Tests/FlightlogStoreTestSupport"
        ),
        // A throwaway database on the PostgreSQL server scripts/test.sh starts: for the PostgreSQL store's tests and the
        // end-to-end tests run on both stores.
        .target(
            name: "FlightlogPostgresTestSupport",
            dependencies: ["FlightlogTestSupport", "FlightlogPostgres", postgresNIO, logging],
            path: "Tests/FlightlogPostgresTestSupport"
        ),
        .testTarget(
            name: "FlightlogWireTests",
            dependencies: ["FlightlogTestSupport", "FlightlogWire", nioCore, nioTestUtils, nioEmbedded, crypto]
        ),
        .testTarget(name: "FlightlogEvidenceTests", dependencies: ["FlightlogEvidence", "FlightlogWire", crypto]),
        .testTarget(name: "FlightlogSigmaTests", dependencies: ["FlightlogSigma", "FlightlogTestSupport", yams]),
        .testTarget(
            name: "FlightlogStoreTests",
            dependencies: [
                "FlightlogTestSupport", "FlightlogStoreTestSupport", "FlightlogStore", "FlightlogEvidence",
                "FlightlogSigma", "FlightlogWire", grdb, crypto, nioConcurrency,
            ]
        ),
        .testTarget(
            name: "FlightlogAgentTests",
            dependencies: [
                "FlightlogTestSupport", "FlightlogAgent", "FlightlogWire", "FlightlogSystem", "FlightlogSimulator",
                "FlightlogMetrics", crypto,
                nioCore, nioPosix, nioTestUtils,
            ]
        ),
        .testTarget(
            name: "FlightlogAggregatorTests",
            dependencies: [
                "FlightlogTestSupport", "FlightlogStoreTestSupport", "FlightlogAggregator", "FlightlogStore",
                "FlightlogEvidence", "FlightlogWire", "FlightlogMetrics", grdb, nioCore, crypto, logging, serviceLifecycle, nioEmbedded,
                nioConcurrency,
            ]
        ),
        // The `flightlog` executable as a process; the agent's parser to store lines as an agent ships them.
        .testTarget(
            name: "FlightlogCLITests",
            dependencies: [
                "FlightlogTestSupport", "FlightlogStoreTestSupport", "FlightlogStore", "FlightlogEvidence",
                "FlightlogSigma", "FlightlogWire", "FlightlogAgent", grdb, crypto,
            ]
        ),
        // The PostgreSQL store against a real server that scripts/postgres.sh starts (FLIGHTLOG_TEST_POSTGRES).
        .testTarget(
            name: "FlightlogPostgresTests",
            dependencies: [
                "FlightlogTestSupport", "FlightlogStoreTestSupport", "FlightlogPostgresTestSupport", "FlightlogPostgres",
                "FlightlogStore", "FlightlogSystem",
                "FlightlogEvidence", "FlightlogWire", "FlightlogAgent", "FlightlogSigma", postgresNIO, crypto, logging,
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "FlightlogStore", "FlightlogEvidence", "FlightlogSystem", "FlightlogTestSupport", "FlightlogTLS",
                "FlightlogPostgres", "FlightlogPostgresTestSupport", x509,
            ]
        ),
    ]
)

// MARK: - Shared settings

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    // A member is visible only where its module is imported: the imports of a file say what it depends on. Not in
    // FlightlogSystem: on Linux the members of a C struct such as `stat` belong to whichever module's headers first
    // included it in that compilation (Glibc, CoreFoundation, CDispatch…), which differs from build to build; the
    // other modules read those structs only through FlightlogSystem's Swift types.
    if target.name != "FlightlogSystem" {
        settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    } else {
        // Failpoints (Failpoint.swift) exist in debug builds, which the tests run, and never in a release build.
        settings.append(.define("FLIGHTLOG_FAILPOINTS", .when(configuration: .debug)))
    }
    target.swiftSettings = settings
}

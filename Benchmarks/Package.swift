// swift-tools-version:6.0
// Benchmarks live in their own package so that CI never builds them. Run: bash Benchmarks/run.sh
import PackageDescription

let package = Package(
    name: "flightlog-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "flightlog", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "flightlog-bench",
            dependencies: [
                .product(name: "FlightlogWire", package: "flightlog"),
                .product(name: "FlightlogEvidence", package: "flightlog"),
                .product(name: "FlightlogStore", package: "flightlog"),
                .product(name: "FlightlogPostgres", package: "flightlog"),
                .product(name: "FlightlogAgent", package: "flightlog"),
                .product(name: "FlightlogAggregator", package: "flightlog"),
                .product(name: "FlightlogTLS", package: "flightlog"),
                .product(name: "FlightlogSimulator", package: "flightlog"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        )
    ]
)

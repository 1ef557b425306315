// swift-tools-version:6.0
// libFuzzer targets live in their own package so that CI never builds them (a sanitized build of every dependency).
// Run: bash scripts/fuzz.sh TARGET SECONDS; docs/FUZZING.md says how it works.
import PackageDescription

let package = Package(
    name: "flightlog-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "flightlog", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
    ],
    targets: [
        // What each target does with one input, apart from libFuzzer's entry point, so that it can be read and run
        // without the fuzzer (the main package's replay tests do the same with the committed corpus).
        .target(
            name: "FuzzTargets",
            dependencies: [
                .product(name: "FlightlogWire", package: "flightlog"),
                .product(name: "FlightlogAgent", package: "flightlog"),
                .product(name: "FlightlogSigma", package: "flightlog"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // One executable per target: a single file defining LLVMFuzzerTestOneInput, linked with libFuzzer's main
        // by `swift build --sanitize=fuzzer` (with `-parse-as-library`, so Swift emits no main of its own).
        .executableTarget(name: "fuzz-frames", dependencies: ["FuzzTargets"]),
        .executableTarget(name: "fuzz-handshake", dependencies: ["FuzzTargets"]),
        .executableTarget(name: "fuzz-batch", dependencies: ["FuzzTargets"]),
        .executableTarget(name: "fuzz-lines", dependencies: ["FuzzTargets"]),
        .executableTarget(name: "fuzz-sigma", dependencies: ["FuzzTargets"]),
    ]
)

// MARK: - Shared settings

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}

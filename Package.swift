// swift-tools-version:6.0
import PackageDescription

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "purser",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "purser", targets: ["PurserCLI"]),
        .executable(name: "purser-server", targets: ["PurserServerMain"]),
        .executable(name: "purser-bench", targets: ["PurserBench"]),
        .library(name: "PurserLedger", targets: ["PurserLedger"]),
        .library(name: "PurserStatistics", targets: ["PurserStatistics"]),
        .library(name: "PurserCore", targets: ["PurserCore"]),
        .library(name: "PurserOperations", targets: ["PurserOperations"]),
        .library(name: "PurserServer", targets: ["PurserServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Generated from opentelemetry-proto v1.11.0 by scripts/generate-otlp (see Sources/OTLPProto/README.md).
        .target(
            name: "OTLPProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["proto", "README.md", "LICENSE"],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "PurserLedger",
            dependencies: [
                "CSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "PurserStatistics",
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "PurserCore",
            dependencies: [
                "PurserLedger", "PurserStatistics", "CZlib", "Yams",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "PurserOperations",
            dependencies: ["PurserCore", "PurserLedger"],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "PurserServer",
            dependencies: [
                "PurserCore",
                "PurserOperations",
                "OTLPProto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "PurserServerMain",
            dependencies: [
                "PurserServer",
                "PurserOperations",
                "PurserCore",
                "PurserLedger",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "PurserCLI",
            dependencies: [
                "PurserCore",
                "PurserOperations",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "PurserBench",
            dependencies: [
                "PurserCore", "PurserLedger", "PurserOperations", "PurserStatistics", "PurserServer", "CSQLite",
                "OTLPProto", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "PurserFuzz",
            dependencies: ["PurserCore", "PurserLedger", "PurserServer"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserLedgerTests",
            dependencies: ["PurserLedger", "CSQLite"],
            exclude: ["Vectors"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserStatisticsTests",
            dependencies: ["PurserStatistics"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserCoreTests",
            dependencies: ["PurserCore", "PurserStatistics"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserCLITests",
            dependencies: ["PurserCore", "PurserLedger", "CSQLite", "PurserCLI", "PurserServerMain"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserOperationsTests",
            dependencies: ["PurserOperations", "PurserCore", "PurserLedger"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserServerTests",
            dependencies: [
                "PurserServer", "PurserOperations", "PurserCore", "PurserLedger", "OTLPProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
    ],
    swiftLanguageModes: [.v6]
)

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
        .executable(name: "purser-bench", targets: ["PurserBench"]),
        .library(name: "PurserLedger", targets: ["PurserLedger"]),
        .library(name: "PurserCore", targets: ["PurserCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
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
            name: "PurserCore",
            dependencies: ["PurserLedger", "Yams", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "PurserCLI",
            dependencies: [
                "PurserCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "PurserBench",
            dependencies: ["PurserCore", "PurserLedger", "CSQLite"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserLedgerTests",
            dependencies: ["PurserLedger", "CSQLite"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserCoreTests",
            dependencies: ["PurserCore"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "PurserCLITests",
            dependencies: ["PurserCore", "PurserLedger", "CSQLite", "PurserCLI"],
            swiftSettings: upcomingFeatures
        ),
    ],
    swiftLanguageModes: [.v6]
)

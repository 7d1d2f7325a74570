// swift-tools-version:6.0
import PackageDescription

// The benchmark executables, apart from the product: `swift build` of AssetDedup (scripts/run,
// scripts/test) never compiles them. Each bench script builds the one it runs first
// (`swift build -c release --package-path scripts/benches --product NAME`), into
// scripts/benches/.build, together with the AssetDedup targets it measures (a path dependency:
// the checkout's current sources, the same release settings).
let package = Package(
    name: "AssetDedupBenches",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "AssetDedup", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Near-duplicate index query against a popcount scan, for `scripts/bench-phash`.
        .executableTarget(
            name: "PerceptualHashBench", dependencies: [.product(name: "PerceptualHash", package: "AssetDedup")]),
        // Near-duplicate search in SQL against an in-memory scan, for `scripts/bench-similar`.
        .executableTarget(
            name: "SimilarBench",
            dependencies: [
                .product(name: "SQLiteStore", package: "AssetDedup"),
                .product(name: "PostgresStore", package: "AssetDedup"),
                .product(name: "PerceptualHash", package: "AssetDedup"),
            ]),
        // MediaFingerprinter timed in process on one file, for `scripts/bench-decode`.
        .executableTarget(
            name: "MediaFingerprintBench",
            dependencies: [
                .product(name: "MediaFingerprinter", package: "AssetDedup"),
                .product(name: "PerceptualHash", package: "AssetDedup"),
            ]),
        // The check-by-hash handler timed in process, for `scripts/bench`.
        .executableTarget(
            name: "HandlerBench",
            dependencies: [
                .product(name: "HTTPAPI", package: "AssetDedup"),
                .product(name: "SQLiteStore", package: "AssetDedup"),
                .product(name: "BlobStore", package: "AssetDedup"),
                .product(name: "Providers", package: "AssetDedup"),
                .product(name: "AssetDedupCore", package: "AssetDedup"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// As in the main package: release builds with cross-module optimisation and no dynamic
// exclusivity checks, so a bench times the code as the product runs it.
for target in package.targets where target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release))
    ]
}

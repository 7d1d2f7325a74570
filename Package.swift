// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "AssetDedup",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "assetdedup", targets: ["assetdedup"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // C libraries, one system-library target each; exactly one Swift target imports each.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // Pure domain: digests, ids, the dedup decision. No I/O, no C.
        .target(name: "AssetDedupCore"),

        // SQLite store: connection, statements, migrations, queries.
        .target(
            name: "AssetStore",
            dependencies: [
                "CSQLite", "AssetDedupCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Content-addressed blob files under var/blobs.
        .target(
            name: "BlobStore",
            dependencies: [
                "AssetDedupCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Provider adapters: where assets are pushed (directory, http, ...).
        .target(
            name: "Providers",
            dependencies: [
                "AssetDedupCore", "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The one executable: a thin argument-parser tree.
        .executableTarget(
            name: "assetdedup",
            dependencies: [
                "AssetDedupCore",
                "AssetStore",
                "BlobStore",
                "Providers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "AssetDedupCoreTests", dependencies: ["AssetDedupCore"]),
        .testTarget(
            name: "AssetStoreTests",
            dependencies: [
                "AssetStore", "AssetDedupCore", "BlobStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "ProvidersTests",
            dependencies: [
                "Providers", "AssetDedupCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)

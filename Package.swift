// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "AssetDedup",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "assetdedup", targets: ["assetdedup"]),
        // The command-line uploader: a client of the HTTP API only (libcurl, swift-crypto).
        .executable(name: "assetdedup-upload", targets: ["assetdedup-upload"]),
        // For the benchmarks only: they live in a package of their own (scripts/benches), which
        // depends on this one by path, so that no build of this package compiles a bench.
        .library(name: "AssetDedupCore", targets: ["AssetDedupCore"]),
        .library(name: "SQLiteStore", targets: ["SQLiteStore"]),
        .library(name: "PostgresStore", targets: ["PostgresStore"]),
        .library(name: "BlobStore", targets: ["BlobStore"]),
        .library(name: "Providers", targets: ["Providers"]),
        .library(name: "HTTPAPI", targets: ["HTTPAPI"]),
        .library(name: "PerceptualHash", targets: ["PerceptualHash"]),
        .library(name: "MediaFingerprinter", targets: ["MediaFingerprinter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // C libraries, one system-library target each; exactly one Swift target imports each.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CCmark",
            pkgConfig: "libcmark",
            providers: [.apt(["libcmark-dev"])]
        ),

        .systemLibrary(
            name: "CFastCGI",
            pkgConfig: "fcgi",
            providers: [.apt(["libfcgi-dev"])]
        ),

        // libcrypto's low-level SHA-256, whose context can be saved: resumable uploads keep hashing
        // across requests and restarts without re-reading what they already have.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // Linux file calls Glibc's Swift module leaves out (fallocate's KEEP_SIZE, sync_file_range,
        // xattrs): the partial files of resumable uploads; only BlobStore imports it.
        .systemLibrary(name: "CLinuxIO"),

        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // libpq, blocking: the store runs on FastCGI worker threads, one connection per thread.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),

        // libvips for still images: shrink-on-load, streaming, low memory (what Immich uses via sharp).
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),

        // FFmpeg's demuxers, decoders and scaler for video frames (link list in the module map).
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),

        // libfcgi accept loop on N threads; no domain knowledge.
        .target(name: "FastCGIServer", dependencies: ["CFastCGI"]),

        // Prometheus metrics shared by request threads and delivery workers: atomics, text format.
        .target(name: "Metrics"),

        // Pure domain: digests, ids, the dedup decision, perceptual hash values and their
        // near-duplicate rules. No I/O, no C.
        .target(name: "AssetDedupCore"),

        // The store seam: one protocol per consumer's needs, and the rows they exchange.
        // Consumers (HTTPAPI, Delivery, Reports, the commands) depend on this, not on a backend.
        .target(name: "StoreProtocols", dependencies: ["AssetDedupCore"]),

        // What a SQL backend's connection offers (statements, rows, values, transactions, schema
        // facts): no C, no store. The uploader's hash cache uses it through SQLiteConnection too.
        .target(name: "SQLInterface"),

        // One SQLite connection (statements, rows, backup); the only importer of CSQLite. Thin
        // enough for the uploader, which must not link the server store.
        .target(name: "SQLiteConnection", dependencies: ["CSQLite", "SQLInterface"]),

        // The store written once over `SQLConnection`: the generic `SQLStore` (every query), the
        // migrator and the migrations every backend shares. Imports no C library.
        .target(
            name: "SQLStore",
            dependencies: [
                "SQLInterface", "AssetDedupCore", "StoreProtocols",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The SQLite backend of the store seam, the embedded default: `SQLStore<Database>`, its
        // migration plan, backups.
        .target(name: "SQLiteStore", dependencies: ["SQLStore", "SQLiteConnection", "AssetDedupCore"]),

        // The PostgreSQL backend of the store seam (SQLConnection over libpq); the only importer of CLibPQ.
        .target(name: "PostgresStore", dependencies: ["CLibPQ", "SQLStore", "AssetDedupCore"]),

        // The blob storage seam, split by need (readers, writers, partial uploads, the collector),
        // and the hashed temp writer every backend stages through. Consumers depend on this.
        .target(
            name: "BlobProtocols",
            dependencies: [
                "AssetDedupCore", "CLibCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Content-addressed blob files under var/blobs: the local-folder BlobStorage (the default).
        // CLinuxIO: the Linux file calls Glibc's module leaves out, for its partial files.
        .target(name: "BlobStore", dependencies: ["AssetDedupCore", "BlobProtocols", "CLinuxIO"]),

        // libcurl's easy API behind Swift values (a handle per transfer, blocking); the only
        // importer of CCurl. Used by the http provider and the S3 client.
        .target(name: "CurlTransport", dependencies: ["CCurl"]),

        // Provider adapters: where assets are pushed (directory, http, ...).
        .target(
            name: "Providers",
            dependencies: [
                "AssetDedupCore", "BlobProtocols", "CurlTransport", "S3",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Blobs in an S3-compatible bucket (`--blobs s3://BUCKET/PREFIX`), the other BlobStorage;
        // it stages on this node's disk through `BlobStaging`, not through the folder backend.
        .target(name: "S3BlobStore", dependencies: ["AssetDedupCore", "BlobProtocols", "S3"]),

        // HTTP API: router and handlers as request values -> response values; auth; uploads.
        .target(
            name: "Delivery",
            dependencies: [
                "AssetDedupCore", "StoreProtocols", "BlobProtocols", "Providers", "Metrics",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // `assetdedup verify`: re-reads blobs and provider copies, records each copy's verdict.
        .target(
            name: "Integrity",
            dependencies: [
                "AssetDedupCore", "StoreProtocols", "BlobProtocols", "Providers", "Metrics",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Blob garbage collection (`assetdedup gc`): walks a BlobStorage, the store decides.
        .target(name: "GarbageCollection", dependencies: ["AssetDedupCore", "StoreProtocols", "BlobProtocols"]),

        .target(
            name: "HTTPAPI",
            dependencies: [
                "AssetDedupCore", "StoreProtocols", "BlobProtocols", "Providers", "Delivery", "Metrics",
                "PerceptualHash",
                .product(name: "Logging", package: "swift-log"),
                // tus's checksum extension: sha256, sha1 and md5 of request bodies.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // CommonMark to HTML (libcmark) plus pipe tables; the only importer of CCmark.
        .target(name: "Markdown", dependencies: ["CCmark"]),

        // Nightly reports: store queries -> page models -> Mustache Markdown -> HTML, published atomically.
        .target(
            name: "Reports",
            dependencies: [
                "StoreProtocols", "AssetDedupCore", "Markdown",
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),

        // AWS Signature Version 4 for S3-compatible blob storage: pure values in, headers or a
        // presigned URL out; swift-crypto's HMAC and SHA-256, no S3 SDK.
        .target(name: "SigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // A blocking S3 client (path-style, SigV4 with the payload hash signed) for S3-compatible
        // blob storage: moto in the tests, MinIO or AWS in production.
        .target(
            name: "S3",
            dependencies: ["CurlTransport", "SigV4", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // Streaming SHA-256 in pure Swift; scripts/build-wasm compiles the same files as
        // Embedded Swift into www/app/sha256.wasm for the browser client.
        .target(name: "SHA256Kernel"),

        // Near-duplicates, part 1: imagehash's 64-bit DCT pHash over decoded luminance and a
        // pixels to a hash (the hash values and the index are in the core); pure Swift, no I/O, no C.
        .target(name: "PerceptualHash", dependencies: ["AssetDedupCore"]),
        // Image files to an 8-bit luminance plane (and report thumbnails); the only importer of CVips.
        .target(name: "ImageDecoding", dependencies: ["CVips", "PerceptualHash"]),
        // Video files to gray frames at fixed fractions of the duration; the only importer of CFFmpeg.
        .target(name: "VideoDecoding", dependencies: ["CFFmpeg"]),
        // `MediaFingerprinting` over the two decoders: sniffs the bytes, decodes, hashes.
        .target(
            name: "MediaFingerprinter",
            dependencies: ["AssetDedupCore", "PerceptualHash", "ImageDecoding", "VideoDecoding"]),

        // The one executable: a thin argument-parser tree.
        .executableTarget(
            name: "assetdedup",
            dependencies: [
                "AssetDedupCore",
                "SQLiteStore",
                "PostgresStore",
                "StoreProtocols",
                "BlobStore",
                "Integrity",
                "S3BlobStore",
                "S3",
                "Providers",
                "Delivery",
                "FastCGIServer",
                "GarbageCollection",
                "HTTPAPI",
                "Metrics",
                "MediaFingerprinter",
                "ImageDecoding",
                "PerceptualHash",
                .product(name: "Mustache", package: "swift-mustache"),
                "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The uploader's logic: crawl, stream-hash, plan (pure), the HTTP API calls over
        // CurlTransport, and its hash cache on SQLiteConnection. No server code, no store, no
        // FastCGI, libpq, libvips or FFmpeg: libcurl and SQLite only.
        .target(
            name: "UploadClient",
            dependencies: [
                "CurlTransport", "SQLiteConnection", "SQLInterface",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "assetdedup-upload",
            dependencies: ["UploadClient", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "UploadClientTests", dependencies: ["UploadClient"]),

        // Fuzz targets for everything that parses outside input, shared by the libFuzzer
        // executable (scripts/fuzz) and the seeded tests in FuzzTests.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "AssetDedupCore", "SQLiteStore", "BlobStore", "Providers", "HTTPAPI",
                "ImageDecoding", "VideoDecoding", "MediaFingerprinter", "PerceptualHash",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "AssetDedupFuzz", dependencies: ["FuzzTargets"]),
        .testTarget(name: "AssetDedupCoreTests", dependencies: ["AssetDedupCore"]),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "MediaFingerprinter", "PerceptualHash"]),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "SQLiteStore", "AssetDedupCore", "BlobStore", "Providers", "Delivery", "Metrics",
                "PerceptualHash", "PostgresTestSupport", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BlobStoreTests",
            dependencies: [
                "BlobStore", "BlobProtocols", "AssetDedupCore", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "SHA256KernelTests",
            dependencies: ["SHA256Kernel", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "AssetStoreTests",
            dependencies: [
                "SQLiteStore", "AssetDedupCore", "BlobStore", "BlobProtocols",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "GarbageCollectionTests", dependencies: ["GarbageCollection", "SQLiteStore", "BlobStore"]),
        .testTarget(name: "MarkdownTests", dependencies: ["Markdown"]),
        // Vectors/phash-vectors.json: the hashes the browser's phash.js must reproduce bit for bit.
        .testTarget(
            name: "PerceptualHashTests", dependencies: ["PerceptualHash", "AssetDedupCore"], exclude: ["Vectors"]),
        // Real files made by the vips and ffmpeg CLIs at test time (scripts/install-deps).
        .testTarget(
            name: "MediaFingerprinterTests",
            dependencies: ["AssetDedupCore", "MediaFingerprinter", "ImageDecoding", "VideoDecoding", "PerceptualHash"]
        ),
        // AWS's SigV4 test-suite vectors (fixture files, Apache-2.0) and the S3 documentation examples.
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4"], exclude: ["Vectors"]),
        // Runs against a real PostgreSQL cluster (ASSETDEDUP_TEST_PG_URL, see scripts/pg-cluster).
        // The test cluster (`ASSETDEDUP_TEST_PG_URL`) and a fresh schema per test, for every
        // suite that runs on PostgreSQL too.
        .target(
            name: "PostgresTestSupport", dependencies: ["PostgresStore", "SQLiteStore", "StoreProtocols"],
            path: "Tests/PostgresTestSupport"),
        // The store contract: one suite, run on SQLite and on PostgreSQL (`Backend.available`).
        .testTarget(
            name: "StoreContractTests",
            dependencies: [
                "SQLiteStore", "PostgresStore", "PostgresTestSupport", "AssetDedupCore", "StoreProtocols",
                "PerceptualHash",
            ]),
        // The blob storage contract: one suite, run on the local folder and on S3 (moto) when
        // this run has a server (`BlobBackend.available`).
        .testTarget(
            name: "BlobContractTests",
            dependencies: [
                "BlobProtocols", "BlobStore", "S3BlobStore", "S3", "AssetDedupCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "PostgresBackendTests",
            dependencies: ["PostgresStore", "PostgresTestSupport", "SQLiteStore", "AssetDedupCore"]),
        .testTarget(
            name: "ReportsTests",
            dependencies: [
                "Reports", "SQLiteStore", "AssetDedupCore", "Markdown", "PostgresStore", "PostgresTestSupport",
            ],
            exclude: ["Golden"]
        ),
        // Runs against a real S3-compatible server (ASSETDEDUP_TEST_S3_ENDPOINT, see scripts/s3-server).
        .testTarget(
            name: "S3Tests", dependencies: ["S3", "CurlTransport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "IntegrityTests",
            dependencies: [
                "Integrity", "SQLiteStore", "BlobStore", "Providers", "AssetDedupCore",
                .product(name: "Logging", package: "swift-log"),
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

// Release only: cross-module optimisation lets the per-request generic code (statement binding,
// row mapping, Codable) be specialised across our targets instead of going through runtime
// metadata; dynamic exclusivity checks cost ~6% of upload CPU in the per-chunk multipart
// callbacks (static checks still run, and debug builds and tests keep the dynamic ones).
for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .unsafeFlags(
                ["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release))
        ]
}

import AssetDedupCore
import SQLiteStore
import Foundation
import PerceptualHash
import PostgresStore
import PostgresTestSupport
import Reports

/// A small database with every case the pages show, and helpers that always clean up.
enum ReportFixture {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let templates = repoRoot + "/templates"
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Golden"

    static let hashA = String(repeating: "a1", count: 32)
    static let hashB = String(repeating: "b2", count: 32)
    static let hashC = String(repeating: "c3", count: 32)
    static let hashD = String(repeating: "d4", count: 32)
    static let hashE = String(repeating: "e5", count: 32)
    /// A file name that tries to break out of a table cell and into HTML.
    static let hostileName = "<script>alert(1)</script> | a & b `x`\nline2 <img src=x onerror=y>"

    static let day1 = Date(timeIntervalSince1970: 1_795_057_200)  // 2026-11-19T03:00:00Z
    static let day2 = day1.addingTimeInterval(86_400)

    /// Runs `body` with a migrated fixture store and a temp folder, both removed afterwards.
    static func withStore<T>(_ body: (SQLiteStore, String) throws -> T) throws -> T {
        try withTemporaryFolder { dir in
            let store = try SQLiteStore(path: dir + "/test.sqlite")
            try Migrator(db: store.db).up()
            try seed(store.db)
            try seedFingerprints(store)
            return try body(store, dir)
        }
    }

    /// The same fixture on PostgreSQL, in a fresh schema of the test cluster.
    static func withPostgresStore<T>(_ body: (SQLStore<PostgresConnection>, String) throws -> T) throws -> T {
        try TestCluster.withSchema { url in
            try withTemporaryFolder { dir in
                let store = SQLStore(db: try PostgresConnection(url: url))
                try store.migrateUp(to: nil) { _ in }
                try seed(store.db)
                try seedFingerprints(store)
                return try body(store, dir)
            }
        }
    }

    static func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reports-test-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try body(dir)
    }

    /// Plain SQL both backends run the same way.
    static func seed<C: SQLConnection>(_ db: C) throws {
        try db.execute(
            """
            UPDATE schema_migrations
                SET applied_at = '2026-01-' || CASE WHEN version < 10 THEN '0' ELSE '' END || version || 'T10:00:00.000Z';
            INSERT INTO users (id, name, is_admin, created_at) VALUES
              (1, 'alice', 1, '2026-01-01T00:00:00.000Z'), (2, 'bob', 0, '2026-01-01T00:00:00.000Z'),
              (3, 'carol', 0, '2026-01-01T00:00:00.000Z');
            INSERT INTO assets (id, user_id, sha256, size, original_filename, created_at) VALUES
              (1, 1, '\(hashA)', 2048, 'sunset.png', '2026-02-01T00:00:00.000Z'),
              (2, 2, '\(hashA)', 2048, 'sunset copy.png', '2026-02-02T00:00:00.000Z'),
              (3, 3, '\(hashA)', 2048, 'IMG_0001.png', '2026-02-03T00:00:00.000Z'),
              (4, 1, '\(hashB)', 1000, 'clip.mp4', '2026-02-04T00:00:00.000Z'),
              (5, 2, '\(hashB)', 1000, 'clip (1).mp4', '2026-02-05T00:00:00.000Z'),
              (6, 1, '\(hashC)', 500, 'notes.txt', '2026-02-06T00:00:00.000Z'),
              (7, 3, NULL, 300, 'legacy.gif', '2026-02-07T00:00:00.000Z');
            INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id, uploaded_at) VALUES
              (1, 'pixverse', 'pv-1', '2026-02-01T00:00:00.000Z'), (1, 'runway', 'rw-1', '2026-02-01T00:00:00.000Z'),
              (2, 'pixverse', 'pv-2', '2026-02-02T00:00:00.000Z'), (3, 'runway', 'rw-3', '2026-02-03T00:00:00.000Z'),
              (4, 'archive', 'ar-4', '2026-02-04T00:00:00.000Z'), (4, 'pixverse', 'pv-4', '2026-02-04T00:00:00.000Z'),
              (4, 'runway', 'rw-4', '2026-02-04T00:00:00.000Z'), (6, 'archive', 'ar-6', '2026-02-06T00:00:00.000Z');
            INSERT INTO asset_merges (user_id, sha256, kept_asset_id, merged_asset_id, merged_original_filename,
                merged_providers, source, merged_at) VALUES
              (1, '\(hashC)', 6, 9, 'notes (old).txt', '{"archive":"ar-9"}', 'migration', '2026-01-02T10:00:00.000Z');
            INSERT INTO blob_gc_marks (sha256, size, marked_at, state, state_at) VALUES
              ('\(hashE)', 1536, '2026-11-18T02:00:00.000Z', 'marked', '2026-11-18T02:00:00.000Z'),
              ('\(String(repeating: "f6", count: 32))', 512, '2026-11-18T02:05:00.000Z', 'deleting',
               '2026-11-19T02:00:00.000Z');
            INSERT INTO copy_checks (sha256, location, state, detail, checked_at) VALUES
              ('\(hashA)', 'blob', 'ok', NULL, '2026-11-18T01:00:00.000Z'),
              ('\(hashA)', 'pixverse', 'ok', NULL, '2026-11-18T01:00:00.000Z'),
              ('\(hashA)', 'runway', 'unreachable', 'HEAD https://runway.example/copies/rw-1: timed out after 5 s',
               '2026-11-18T01:00:01.000Z'),
              ('\(hashB)', 'blob', 'ok', NULL, '2026-11-17T01:00:00.000Z'),
              ('\(hashB)', 'pixverse', 'corrupt', '1000 bytes hashing to \(hashE)', '2026-11-17T01:00:00.000Z'),
              ('\(hashB)', 'archive', 'missing', 'no copy at ar-4', '2026-11-17T01:00:00.000Z'),
              ('\(hashB)', 'runway', 'unverifiable', 'no presence_url is configured', '2026-11-17T01:00:00.000Z'),
              ('\(hashC)', 'blob', 'corrupt', '499 bytes hashing to \(hashE)', '2026-11-18T01:00:02.000Z'),
              ('\(hashE)', 'blob', 'missing', 'no blob', '2026-11-16T01:00:00.000Z');
            INSERT INTO copy_repairs (sha256, location, done, what, repaired_at) VALUES
              ('\(hashA)', 'blob', 1, 'restored from pixverse''s copy', '2026-11-10T01:00:00.000Z'),
              ('\(hashB)', 'archive', 0, 'not repaired: provider archive is not configured', '2026-11-17T01:00:03.000Z');
            """)
        for (id, user, provider, offset, completed) in [
            ("0123456789abcdef0123456789abcdef", 1, "pixverse", 4096, nil),
            ("fedcba9876543210fedcba9876543210", 2, "runway", 1000, nil),
            ("00000000000000000000000000000000", 3, "runway", 777, "2026-02-07T00:00:00.000Z"),
        ] as [(String, Int, String, Int, String?)] {
            try db.run(
                """
                INSERT INTO upload_sessions (id, user_id, provider_id, upload_offset, hash_state, completed_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [id, user, provider, offset, SQLValue.blob([0]), completed], cached: false)
        }
    }

    /// Look-alike copies of alice's sunset (a 50% resize, a JPEG q60) and of her clip (a
    /// re-encode), bob's copy of the same sunset (never grouped with alice's), a text file
    /// without a fingerprint, and an unrelated picture of alice's.
    static let sunset: UInt64 = 0x8f37_3714_acfc_f4f0
    static func frames(_ seed: UInt64) -> [PerceptualHash64] {
        (1...10).map { PerceptualHash64(bits: seed &* UInt64($0) ^ (seed >> UInt64($0))) }
    }

    static func seedFingerprints<C: SQLConnection>(_ store: SQLStore<C>) throws {
        try store.db.execute(
            """
            INSERT INTO assets (id, user_id, sha256, size, original_filename, created_at) VALUES
              (10, 1, '\(String(repeating: "a7", count: 32))', 1024, 'sunset-small.jpg', '2026-02-10T00:00:00.000Z'),
              (11, 1, '\(String(repeating: "a8", count: 32))', 900, 'sunset-q60.jpg', '2026-02-11T00:00:00.000Z'),
              (12, 1, '\(String(repeating: "b9", count: 32))', 800, 'clip-720p.mp4', '2026-02-12T00:00:00.000Z'),
              (13, 1, '\(String(repeating: "ca", count: 32))', 700, 'cat.jpg', '2026-02-13T00:00:00.000Z');
            """)
        let clip = frames(0x9e37_79b9_7f4a_7c15)
        let outcomes: [(Int64, FingerprintOutcome)] = [
            (1, .fingerprint(.image(PerceptualHash64(bits: sunset)))),
            (2, .fingerprint(.image(PerceptualHash64(bits: sunset)))),
            (10, .fingerprint(.image(PerceptualHash64(bits: sunset ^ 0b1011)))),
            (11, .fingerprint(.image(PerceptualHash64(bits: sunset ^ 0x30_0000_0101)))),
            (13, .fingerprint(.image(PerceptualHash64(bits: ~sunset)))),
            (4, .fingerprint(.video(frames: clip, durationSeconds: 61.5))),
            (
                12,
                .fingerprint(.video(frames: clip.map { PerceptualHash64(bits: $0.bits ^ 0b11) }, durationSeconds: 61.5))
            ),
            (6, .unavailable(reason: "not an image or video")),
        ]
        for (asset, outcome) in outcomes { try store.saveFingerprint(outcome, asset: AssetID(asset)) }
    }

    /// What changes between the two runs: a new hostile-named asset and a review.
    static func secondDay<C: SQLConnection>(_ db: C) throws {
        try db.run(
            """
            INSERT INTO assets (id, user_id, sha256, size, original_filename, created_at)
            VALUES (8, 2, '\(hashD)', 100, ?, '2026-11-19T12:00:00.000Z')
            """, [hostileName], cached: false)
        try db.execute(
            """
            INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id) VALUES (8, 'pixverse', 'pv-8');
            INSERT INTO duplicate_reviews (group_sha256, decision, keep_asset_id, note, reviewed_by, reviewed_at)
            VALUES ('\(hashA)', 'keep', 1, 'oldest | original', 'alice', '2026-11-19T15:30:00.000Z');
            INSERT INTO near_duplicate_reviews (user_id, anchor_asset_id, member_ids, decision, keep_asset_id, note,
                reviewed_by, reviewed_at)
            VALUES (1, 1, '1,10,11', 'keep', 1, 'the original', 'alice', '2026-11-19T16:00:00.000Z'),
                   (1, 4, '4,12,14', 'ignore', NULL, NULL, 'alice', '2026-11-19T16:05:00.000Z');
            """)
    }

    static func job(
        _ store: any ReportSource, out: String, now: Date, afterWriting: @escaping (String) throws -> Void = { _ in }
    )
        -> ReportJob
    {
        var job = ReportJob(
            store: store, templatesDirectory: templates, outputDirectory: out, minProviders: 2, listLimit: 50, now: now,
            afterWriting: afterWriting)
        job.minCopies = 2
        return job
    }

    static func read(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    /// Every file under `dir` with its bytes: what "left intact" means.
    static func contents(of dir: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: dir)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(dir)/\(path)", isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                result[path] = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(path)"))
            }
        }
        return result
    }
}

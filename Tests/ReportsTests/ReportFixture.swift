import AssetStore
import Foundation
import PostgresBackend
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
                return try body(store, dir)
            }
        }
    }

    static func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reports-test-\(UUID().uuidString)").path
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
            """)
    }

    static func job(_ store: any ReportSource, out: String, now: Date, afterWriting: @escaping (String) throws -> Void = { _ in })
        -> ReportJob
    {
        ReportJob(
            store: store, templatesDirectory: templates, outputDirectory: out, minProviders: 2, listLimit: 50, now: now,
            afterWriting: afterWriting)
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
            if FileManager.default.fileExists(atPath: "\(dir)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                result[path] = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(path)"))
            }
        }
        return result
    }
}

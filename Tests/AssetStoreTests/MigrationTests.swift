import AssetDedupCore
import SQLiteStore
import Testing

@Suite struct MigrationTests {
    let a = String(repeating: "ab", count: 32)
    let b = String(repeating: "cd", count: 32)
    let c = String(repeating: "ef", count: 32)

    /// Seeds the legacy (version 1) schema the way the seed system left it.
    func seedTidyLegacy(_ db: Database) throws {
        try db.execute(
            """
            INSERT INTO users (id, name, created_at) VALUES (1, 'alice', '2024-01-01T00:00:00Z'), (2, 'bob', '2024-01-02T00:00:00Z');
            INSERT INTO assets (id, user_id, sha256, size, mime_type, original_filename, provider_id, providers_json, storage_path, created_at, last_accessed_at) VALUES
              (1, 1, '\(a)', 100, 'image/png', 'cat.png', 'pixverse', '{"pixverse":"pv-1","runway":"rw-1"}', 'legacy/1.bin', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'),
              (2, 1, '\(b)', 200, 'video/mp4', 'clip.mp4', 'runway', '{"runway":"rw-2"}', 'legacy/2.bin', '2024-02-02T00:00:00Z', NULL),
              (3, 2, '\(c)', 300, 'image/jpeg', 'dog.jpg', NULL, '{}', 'legacy/3.bin', '2024-02-03T00:00:00Z', NULL),
              (4, 2, NULL, 400, 'image/gif', 'never hashed.gif', 'pixverse', '{"pixverse":"pv-4"}', 'legacy/4.bin', '2024-02-04T00:00:00Z', NULL);
            """)
    }

    @Test func upAndDownRoundTripKeepsEveryRowByteForByte() throws {
        try withTemporaryDatabase(version: 1) { store, _ in
            let db = store.db
            try seedTidyLegacy(db)
            let usersBefore = try dump(db, "users")
            let assetsBefore = try dump(db, "assets")
            let schemaBefore = try schema(db)

            let migrator = try Migrator(db: db)
            #expect(try migrator.up() == Array(2...MigrationPlan.latestVersion))
            #expect(try migrator.currentVersion() == MigrationPlan.latestVersion)
            // The JSON map became rows, one per (asset, provider), dated from the asset.
            let uploads = try db.query(
                "SELECT asset_id, provider_id, provider_asset_id, uploaded_at FROM provider_uploads ORDER BY 1, 2", cached: false
            ) { "\($0.int(0)) \($0.text(1)) \($0.text(2)) \($0.text(3))" }
            #expect(
                uploads == [
                    "1 pixverse pv-1 2024-02-01T00:00:00Z", "1 runway rw-1 2024-02-01T00:00:00Z",
                    "2 runway rw-2 2024-02-02T00:00:00Z", "4 pixverse pv-4 2024-02-04T00:00:00Z",
                ])
            #expect(try store.findAsset(user: UserID(1), sha256: SHA256Digest(parsing: a))?.uploads.count == 2)

            #expect(try migrator.down(to: 1) == Array((2...MigrationPlan.latestVersion).reversed()))
            #expect(try dump(db, "users") == usersBefore)
            #expect(try dump(db, "assets") == assetsBefore)
            #expect(try schema(db).filter { !$0.contains("schema_migrations") } == schemaBefore.filter { !$0.contains("schema_migrations") })

            // And up again: the same data comes back.
            try migrator.up()
            #expect(try db.queryFirst("SELECT count(*) FROM provider_uploads", cached: false) { $0.int(0) } == 4)
        }
    }

    @Test func perUserIndexIsCompositeUniqueAndPartial() throws {
        try withTemporaryDatabase { store, _ in
            let sql = try #require(try store.db.schemaSQL("idx_asset_user_sha256"))
            #expect(sql == "CREATE UNIQUE INDEX idx_asset_user_sha256 ON assets(user_id, sha256) WHERE sha256 IS NOT NULL")
            // No global unique on sha256 remains: no other unique index mentions it.
            let uniques = try store.db.query(
                "SELECT il.name FROM pragma_index_list('assets') il WHERE il.\"unique\" = 1", cached: false
            ) { $0.text(0) }
            #expect(uniques == ["idx_asset_user_sha256"])
        }
    }

    @Test func untidyLegacyHashesAreNormalisedAndSameUserCollisionsMerged() throws {
        try withTemporaryDatabase(version: 1) { store, _ in
            let db = store.db
            try db.execute(
                """
                INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob');
                INSERT INTO assets (id, user_id, sha256, size, original_filename, providers_json, created_at, last_accessed_at) VALUES
                  (10, 1, '\(a.uppercased())', 1, 'old.png', '{"pixverse":"pv-old"}', '2024-01-01T00:00:00Z', NULL),
                  (11, 1, '  \(a)  ', 1, 'new.png', '{"pixverse":"pv-new","runway":"rw-new"}', '2024-05-01T00:00:00Z', '2024-06-01T00:00:00Z'),
                  (12, 2, '\(a)', 1, 'bobs.png', '{}', '2024-01-03T00:00:00Z', NULL),
                  (13, 2, 'not-a-hash', 1, 'junk.png', '{}', '2024-01-04T00:00:00Z', NULL);
                """)
            try Migrator(db: db).up()
            let rows = try db.query("SELECT id, user_id, sha256 FROM assets ORDER BY id", cached: false) {
                "\($0.int(0)) \($0.int(1)) \($0.optionalText(2) ?? "NULL")"
            }
            // 11 merged into the older 10; bob keeps his own copy; the junk hash awaits backfill.
            #expect(rows == ["10 1 \(a)", "12 2 \(a)", "13 2 NULL"])
            let kept = try #require(try store.asset(id: AssetID(10), user: UserID(1)))
            #expect(kept.uploads.mapKeys() == ["pixverse": "pv-old", "runway": "rw-new"])
            #expect(kept.lastAccessedAt == "2024-06-01T00:00:00Z")
            let merges = try db.query(
                "SELECT kept_asset_id, merged_asset_id, merged_original_filename, merged_providers, source FROM asset_merges",
                cached: false
            ) { "\($0.int(0)) \($0.int(1)) \($0.text(2)) \($0.text(3)) \($0.text(4))" }
            #expect(merges == [#"10 11 new.png {"pixverse":"pv-new","runway":"rw-new"} migration"#])
        }
    }

    @Test func downRefusesWhenUsersShareAHashAndChangesNothing() throws {
        try withTemporaryDatabase { store, _ in
            let alice = try store.addUser(name: "alice")
            let bob = try store.addUser(name: "bob")
            let shared = digest(9)
            try store.insertAsset(NewAsset(userID: alice.id, sha256: shared, size: 5))
            try store.insertAsset(NewAsset(userID: bob.id, sha256: shared, size: 5))
            try store.insertAsset(NewAsset(userID: bob.id, sha256: digest(3), size: 5))
            let migrator = try Migrator(db: store.db)
            let tables = ["users", "assets", "provider_uploads", "api_tokens", "schema_migrations", "asset_merges"]
            let before = try tables.map { try dump(store.db, $0) }
            let schemaBefore = try schema(store.db)

            let error = try #require(throws: MigrationError.self) { try migrator.down(to: 1) }
            #expect(error.kind == .refused)
            #expect(error.message.contains(shared.hex))
            #expect(error.message.contains("users \(alice.id), \(bob.id)"))
            #expect(!error.message.contains(digest(3).hex))

            // The whole down run is one transaction: 5..3 were rolled back with the refusal at 2.
            #expect(try migrator.currentVersion() == MigrationPlan.latestVersion)
            #expect(try tables.map { try dump(store.db, $0) } == before)
            #expect(try schema(store.db) == schemaBefore)
        }
    }

    @Test func refusedMigrationRollsBackItsOwnTransaction() throws {
        try withTemporaryDatabase(version: 2) { store, _ in
            try store.db.execute(
                """
                INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob');
                INSERT INTO assets (user_id, sha256, providers_json) VALUES (1, '\(a)', '{}'), (2, '\(a)', '{}');
                """)
            let before = try dump(store.db, "assets")
            let schemaBefore = try schema(store.db)
            #expect(throws: MigrationError.self) { try Migrator(db: store.db).down(to: 1) }
            #expect(try dump(store.db, "assets") == before)
            #expect(try schema(store.db) == schemaBefore)
            #expect(try Migrator(db: store.db).currentVersion() == 2)
        }
    }

    @Test func malformedProviderJSONIsRefusedByName() throws {
        try withTemporaryDatabase(version: 2) { store, _ in
            try store.db.execute(
                """
                INSERT INTO users (id, name) VALUES (1, 'alice');
                INSERT INTO assets (id, user_id, sha256, providers_json) VALUES (5, 1, NULL, '{"a":'), (6, 1, NULL, '[1]'), (7, 1, NULL, '{}');
                """)
            let error = try #require(throws: MigrationError.self) { try Migrator(db: store.db).up() }
            #expect(error.message.contains("asset(s) 5, 6"))
            #expect(try Migrator(db: store.db).currentVersion() == 2)
        }
    }

    @Test func driftAndUnknownVersionsAreReported() throws {
        try withTemporaryDatabase { store, _ in
            let migrator = try Migrator(db: store.db)
            #expect(try migrator.status().allSatisfy { if case .applied = $0.state { true } else { false } })
            try store.db.run("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3", cached: false)
            try store.db.run("INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'from_the_future', 'x')", cached: false)
            let status = try migrator.status()
            #expect(status.first { $0.version == 3 }.map { if case .drifted = $0.state { true } else { false } } == true)
            #expect(status.first { $0.version == 99 }.map { if case .unknown = $0.state { true } else { false } } == true)
            let error = try #require(throws: MigrationError.self) { try migrator.up() }
            #expect(error.kind == .unknownVersions)
        }
    }

    @Test func pendingMigrationsAreListedAndBadTargetsRefused() throws {
        try withTemporaryDatabase(version: 2) { store, _ in
            let migrator = try Migrator(db: store.db)
            #expect(try migrator.status().filter { $0.state == .pending }.map(\.version) == Array(3...MigrationPlan.latestVersion))
            #expect(throws: MigrationError.self) { try migrator.up(to: 42) }
            #expect(throws: MigrationError.self) { try migrator.down(to: 4) }
            #expect(try migrator.up(to: 3) == [3])
            #expect(try migrator.up(to: 3) == [])
        }
    }

    @Test func legacyDatabaseWithoutHistoryIsAdoptedNotRecreated() throws {
        try withTemporaryDirectory { dir in
            let db = try Database(path: dir + "/seed.sqlite")
            // The seed system created its tables itself, with no schema_migrations table.
            try db.execute(
                """
                CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL DEFAULT 'x');
                CREATE TABLE assets (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id),
                  sha256 TEXT UNIQUE, size INTEGER NOT NULL DEFAULT 0, mime_type TEXT, original_filename TEXT, provider_id TEXT,
                  providers_json TEXT NOT NULL DEFAULT '{}', storage_path TEXT, created_at TEXT NOT NULL DEFAULT 'x', last_accessed_at TEXT);
                INSERT INTO users (id, name) VALUES (1, 'alice');
                INSERT INTO assets (user_id, sha256, providers_json) VALUES (1, '\(a)', '{"pixverse":"p"}');
                """)
            var log: [String] = []
            try Migrator(db: db).up { log.append($0) }
            #expect(log.first == "migration 1 legacy_schema: already in place, recording it")
            #expect(try db.queryFirst("SELECT count(*) FROM provider_uploads", cached: false) { $0.int(0) } == 1)
        }
    }
}

extension Dictionary where Key == ProviderID {
    func mapKeys() -> [String: Value] { Dictionary<String, Value>(uniqueKeysWithValues: map { ($0.key.rawValue, $0.value) }) }
}

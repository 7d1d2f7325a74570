import AssetDedupCore
import SQLiteStore
import PostgresStore
import PostgresTestSupport
import Testing

@Suite("PostgreSQL migration plan", .enabled(if: !TestCluster.isSkipped))
struct PostgresMigrationTests {
    let a = String(repeating: "ab", count: 32)
    let b = String(repeating: "cd", count: 32)
    let c = String(repeating: "ef", count: 32)

    /// Every row of `table` as column name -> text (NULL: nil), in primary-key order.
    func dump(_ db: PostgresConnection, _ table: String) throws -> [[String: String?]] {
        let columns = try db.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            [table], cached: false
        ) { $0.text(0) }
        let list = columns.map { "\($0)::text" }.joined(separator: ", ")
        return try db.query("SELECT \(list) FROM \(table) ORDER BY 1", cached: false) { row in
            var values: [String: String?] = [:]
            for (index, name) in columns.enumerated() { values[name] = row.optionalText(Int32(index)) }
            return values
        }
    }

    /// Columns, indexes and constraints per table, by name: the schema as structure.
    func schema(_ db: PostgresConnection) throws -> [String] {
        let tables = try db.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' ORDER BY 1",
            cached: false
        ) { $0.text(0) }
        var lines: [String] = []
        for table in tables {
            lines += try db.query(
                """
                SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
                    || ' ' || is_identity
                FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY column_name
                """, [table], cached: false
            ) { "\(table) column \($0.text(0))" }
            lines += try db.indexes(on: table).map { "\(table) index \($0)" }
            lines += try db.query(
                """
                SELECT conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c
                WHERE conrelid = (SELECT oid FROM pg_class WHERE relname = ? AND relnamespace =
                    (SELECT oid FROM pg_namespace WHERE nspname = current_schema())) ORDER BY conname
                """, [table], cached: false
            ) { "\(table) constraint \($0.text(0))" }
        }
        return lines
    }

    @Test("versions and names match SQLite's plan")
    func sameHistory() {
        #expect(PostgresMigrations.plan.map(\.version) == MigrationPlan.all.map(\.version))
        #expect(PostgresMigrations.plan.map(\.name) == MigrationPlan.all.map(\.name))
    }

    @Test("legacy rows go up to the latest version and down to 1 unchanged, schema included")
    func upAndDownRoundTrip() throws {
        try TestCluster.withConnection { db in
            let migrator = try Migrator(db: db)
            try migrator.up(to: 1)
            try db.execute(
                """
                INSERT INTO users (id, name, created_at) VALUES (1, 'alice', '2024-01-01T00:00:00Z'), (2, 'bob', '2024-01-02T00:00:00Z');
                INSERT INTO assets (id, user_id, sha256, size, mime_type, original_filename, provider_id, providers_json, storage_path, created_at, last_accessed_at) VALUES
                  (1, 1, '\(a)', 100, 'image/png', 'cat.png', 'pixverse', '{"pixverse":"pv-1","runway":"rw-1"}', 'legacy/1.bin', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'),
                  (2, 1, '\(b)', 200, 'video/mp4', 'clip.mp4', 'runway', '{"runway":"rw-2"}', 'legacy/2.bin', '2024-02-02T00:00:00Z', NULL),
                  (3, 2, '\(c)', 300, 'image/jpeg', 'dog.jpg', NULL, '{}', 'legacy/3.bin', '2024-02-03T00:00:00Z', NULL),
                  (4, 2, NULL, 400, 'image/gif', 'never hashed.gif', 'pixverse', '{"pixverse":"pv-4"}', 'legacy/4.bin', '2024-02-04T00:00:00Z', NULL);
                """)
            let usersBefore = try dump(db, "users")
            let assetsBefore = try dump(db, "assets")
            let schemaBefore = try schema(db)

            #expect(try migrator.up() == Array(2...PostgresMigrations.plan.count))
            #expect(try migrator.status().allSatisfy { if case .applied = $0.state { true } else { false } })
            let uploads = try db.query(
                "SELECT asset_id, provider_id, provider_asset_id, uploaded_at FROM provider_uploads ORDER BY 1, 2",
                cached: false
            ) { "\($0.int(0)) \($0.text(1)) \($0.text(2)) \($0.text(3))" }
            #expect(
                uploads == [
                    "1 pixverse pv-1 2024-02-01T00:00:00Z", "1 runway rw-1 2024-02-01T00:00:00Z",
                    "2 runway rw-2 2024-02-02T00:00:00Z", "4 pixverse pv-4 2024-02-04T00:00:00Z",
                ])
            let keys = try db.query("SELECT idempotency_key FROM deliveries WHERE state = 'delivered'", cached: false) {
                $0.text(0)
            }
            #expect(keys.count == 4 && keys.allSatisfy { $0.wholeMatch(of: /[0-9a-f]{32}/) != nil })
            #expect(
                try db.indexes(on: "assets").first { $0.name == "idx_asset_user_sha256" }
                    == SQLIndexFacts(
                        name: "idx_asset_user_sha256", isUnique: true, isPartial: true, columns: ["user_id", "sha256"]))

            #expect(try migrator.down(to: 1) == Array((2...PostgresMigrations.plan.count).reversed()))
            #expect(try dump(db, "users") == usersBefore)
            #expect(try dump(db, "assets") == assetsBefore)
            #expect(try schema(db) == schemaBefore)
            try migrator.up()
            #expect(try db.queryFirst("SELECT count(*) FROM provider_uploads", cached: false) { $0.int(0) } == 4)
        }
    }

    @Test("untidy legacy hashes are normalised and same-user collisions merged (the shared Swift step)")
    func untidyHashes() throws {
        try TestCluster.withConnection { db in
            let migrator = try Migrator(db: db)
            try migrator.up(to: 1)
            try db.execute(
                """
                INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob');
                INSERT INTO assets (id, user_id, sha256, size, original_filename, providers_json, created_at, last_accessed_at) VALUES
                  (10, 1, '\(a.uppercased())', 1, 'old.png', '{"pixverse":"pv-old"}', '2024-01-01T00:00:00Z', NULL),
                  (11, 1, '  \(a)  ', 1, 'new.png', '{"pixverse":"pv-new","runway":"rw-new"}', '2024-05-01T00:00:00Z', '2024-06-01T00:00:00Z'),
                  (12, 2, '\(c)', 1, 'bobs.png', '{}', '2024-01-03T00:00:00Z', NULL),
                  (13, 2, 'not-a-hash', 1, 'junk.png', '{}', '2024-01-04T00:00:00Z', NULL);
                """)
            try migrator.up()
            let rows = try db.query("SELECT id, user_id, sha256 FROM assets ORDER BY id", cached: false) {
                "\($0.int(0)) \($0.int(1)) \($0.optionalText(2) ?? "NULL")"
            }
            #expect(rows == ["10 1 \(a)", "12 2 \(c)", "13 2 NULL"])
            let uploads = try db.query(
                "SELECT provider_id, provider_asset_id FROM provider_uploads WHERE asset_id = 10 ORDER BY 1",
                cached: false
            ) { "\($0.text(0))=\($0.text(1))" }
            #expect(uploads == ["pixverse=pv-old", "runway=rw-new"])
            // Down to 2 folds the rows back into the seed system's compact, ordered JSON.
            try migrator.down(to: 2)
            #expect(
                try db.queryFirst("SELECT providers_json FROM assets WHERE id = 10", cached: false) { $0.text(0) }
                    == #"{"pixverse":"pv-old","runway":"rw-new"}"#)
        }
    }
}

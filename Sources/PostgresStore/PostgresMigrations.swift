import SQLStore

/// The schema history of `MigrationPlan` (SQLite) in PostgreSQL: the same versions, names and
/// meaning. PostgreSQL alters what SQLite had to rebuild (`ALTER TABLE … DROP CONSTRAINT`), so no
/// step copies a table. Integers are `BIGINT` (SQLite's are 64-bit), except the 0/1 flag
/// `is_admin` (`INTEGER`, compared with 0 and 1 as on SQLite); bytes are `BYTEA`; timestamps
/// stay ISO-8601 text made by `dialect.now`. The Swift steps are the shared `LegacyMerge` ones.
public enum PostgresMigrations {
    /// Every migration, in version order.
    public static let plan: [Migration<PostgresConnection>] = [
        legacySchema,
        fixSHA256PerUserDedup,
        providerUploadsTable,
        usersAndTokens,
        duplicateReviews,
        reportIndexes,
        providerUploadClaims,
        deliveries,
        uploadSessions,
        leases,
        blobGCMarks,
        mediaFingerprints,
        nearDuplicateReviews,
        MigrationPlan.uploadKinds(),
        MigrationPlan.assetTrash(),
        MigrationPlan.copyChecks(),
        MigrationPlan.integrity(),
    ]

    static let now = PostgresConnection.dialect.now
    static let id = PostgresConnection.dialect.autoIncrementPrimaryKey

    // MARK: 1. legacy schema

    /// The seed system's schema: a global UNIQUE on sha256 (named, so 2 can drop it) and a JSON
    /// provider map per asset.
    static let legacySchema = Migration<PostgresConnection>(
        version: 1, name: "legacy_schema",
        up: [
            .sql(
                """
                CREATE TABLE users (
                    id \(id),
                    name TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL DEFAULT (\(now))
                );
                CREATE TABLE assets (
                    id \(id),
                    user_id BIGINT NOT NULL REFERENCES users(id),
                    sha256 TEXT CONSTRAINT assets_sha256_key UNIQUE,
                    size BIGINT NOT NULL DEFAULT 0,
                    mime_type TEXT,
                    original_filename TEXT,
                    provider_id TEXT,
                    providers_json TEXT NOT NULL DEFAULT '{}',
                    storage_path TEXT,
                    created_at TEXT NOT NULL DEFAULT (\(now)),
                    last_accessed_at TEXT
                );
                CREATE INDEX idx_assets_user ON assets(user_id);
                """)
        ],
        down: [.sql("DROP TABLE assets; DROP TABLE users;")],
        isAlreadyApplied: { db in try db.tableExists("assets") && db.tableExists("users") }
    )

    // MARK: 2. per-user dedup

    /// Drops the global unique, normalises hashes (trim, lower case; anything still not 64 hex
    /// characters becomes NULL for `backfill`), merges same-user collisions, and creates the
    /// per-user partial unique index.
    static let fixSHA256PerUserDedup = Migration<PostgresConnection>(
        version: 2, name: "fix_sha256_per_user_dedup",
        up: [
            .sql(
                """
                ALTER TABLE assets DROP CONSTRAINT assets_sha256_key;
                UPDATE assets SET sha256 =
                    CASE WHEN lower(btrim(sha256)) ~ '^[0-9a-f]{64}$' THEN lower(btrim(sha256)) END
                    WHERE sha256 IS NOT NULL;
                CREATE TABLE asset_merges (
                    id \(id),
                    user_id BIGINT NOT NULL,
                    sha256 TEXT NOT NULL,
                    kept_asset_id BIGINT NOT NULL,
                    merged_asset_id BIGINT NOT NULL,
                    merged_original_filename TEXT,
                    merged_providers TEXT NOT NULL DEFAULT '{}',
                    source TEXT NOT NULL,
                    merged_at TEXT NOT NULL DEFAULT (\(now))
                );
                """),
            .swift("merge_same_user_collisions_v1", LegacyMerge.mergeJSONCollisions),
            .sql(
                "CREATE UNIQUE INDEX idx_asset_user_sha256 ON assets(user_id, sha256) WHERE sha256 IS NOT NULL;"
            ),
        ],
        down: [
            .swift("refuse_cross_user_collisions_v1", LegacyMerge.refuseCrossUserCollisions),
            .sql(
                """
                DROP INDEX idx_asset_user_sha256;
                ALTER TABLE assets ADD CONSTRAINT assets_sha256_key UNIQUE (sha256);
                DROP TABLE asset_merges;
                """),
        ],
        isAlreadyApplied: { db in try db.indexExists("idx_asset_user_sha256") }
    )

    // MARK: 3. provider uploads table

    /// Moves the JSON provider map into rows, one per (asset, provider). `down` writes the
    /// seed system's format back: compact JSON, keys in byte order (what SQLite's
    /// `json_group_object` over `ORDER BY provider_id` made); `jsonb` would add spaces and sort
    /// keys by length first.
    static let providerUploadsTable = Migration<PostgresConnection>(
        version: 3, name: "provider_uploads_table",
        up: [
            .swift("refuse_malformed_provider_json_v1", LegacyMerge.refuseMalformedProviderJSON),
            .sql(
                """
                CREATE TABLE provider_uploads (
                    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
                    provider_id TEXT NOT NULL,
                    provider_asset_id TEXT NOT NULL,
                    uploaded_at TEXT NOT NULL DEFAULT (\(now)),
                    PRIMARY KEY (asset_id, provider_id)
                );
                CREATE INDEX idx_provider_uploads_provider ON provider_uploads(provider_id, asset_id);
                INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id, uploaded_at)
                    SELECT a.id, j.key, j.value, a.created_at
                    FROM assets a, jsonb_each_text(a.providers_json::jsonb) j;
                ALTER TABLE assets DROP COLUMN providers_json;
                """),
        ],
        down: [
            .sql(
                """
                ALTER TABLE assets ADD COLUMN providers_json TEXT NOT NULL DEFAULT '{}';
                UPDATE assets SET providers_json = m.json
                FROM (
                    SELECT asset_id,
                        '{' || string_agg(to_json(provider_id)::text || ':' || to_json(provider_asset_id)::text, ','
                            ORDER BY provider_id COLLATE "C") || '}' AS json
                    FROM provider_uploads GROUP BY asset_id
                ) m
                WHERE m.asset_id = assets.id;
                DROP TABLE provider_uploads;
                """)
        ],
        isAlreadyApplied: { db in try db.tableExists("provider_uploads") }
    )

    // MARK: 4. users and tokens

    /// Admin flag and API tokens (only each token's SHA-256 is stored).
    static let usersAndTokens = Migration<PostgresConnection>(
        version: 4, name: "users_and_tokens",
        up: [
            .sql(
                """
                ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE api_tokens (
                    id \(id),
                    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    token_sha256 TEXT NOT NULL UNIQUE,
                    label TEXT,
                    created_at TEXT NOT NULL DEFAULT (\(now)),
                    last_used_at TEXT,
                    revoked_at TEXT
                );
                CREATE INDEX idx_api_tokens_user ON api_tokens(user_id);
                """)
        ],
        down: [.sql("DROP TABLE api_tokens; ALTER TABLE users DROP COLUMN is_admin;")],
        isAlreadyApplied: { db in try db.tableExists("api_tokens") }
    )

    // MARK: 5. duplicate reviews

    /// Admin decisions on duplicate groups, shown by the reports.
    static let duplicateReviews = Migration<PostgresConnection>(
        version: 5, name: "duplicate_reviews",
        up: [
            .sql(
                """
                CREATE TABLE duplicate_reviews (
                    id \(id),
                    group_sha256 TEXT NOT NULL,
                    decision TEXT NOT NULL CHECK (decision IN ('keep', 'ignore', 'merged')),
                    keep_asset_id BIGINT,
                    note TEXT,
                    reviewed_by TEXT NOT NULL,
                    reviewed_at TEXT NOT NULL DEFAULT (\(now))
                );
                CREATE INDEX idx_duplicate_reviews_group ON duplicate_reviews(group_sha256, id);
                """)
        ],
        down: [.sql("DROP TABLE duplicate_reviews;")],
        isAlreadyApplied: { db in try db.tableExists("duplicate_reviews") }
    )

    // MARK: 6. report indexes

    /// The reports' covering index: grouping by hash and finding rows without one read it.
    static let reportIndexes = Migration<PostgresConnection>(
        version: 6, name: "report_indexes",
        up: [.sql("CREATE INDEX idx_assets_sha256_size_user ON assets(sha256, size, user_id);")],
        down: [.sql("DROP INDEX idx_assets_sha256_size_user;")],
        isAlreadyApplied: { db in try db.indexExists("idx_assets_sha256_size_user") }
    )

    // MARK: 7. provider upload claims

    static let claimsTable = """
        CREATE TABLE provider_upload_claims (
            asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
            provider_id TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            PRIMARY KEY (asset_id, provider_id)
        );
        """

    /// One claim row per (asset, provider) while an upload is on its way.
    static let providerUploadClaims = Migration<PostgresConnection>(
        version: 7, name: "provider_upload_claims",
        up: [.sql(claimsTable)],
        down: [.sql("DROP TABLE provider_upload_claims;")],
        isAlreadyApplied: { db in try db.tableExists("provider_upload_claims") }
    )

    // MARK: 8. deliveries

    /// The durable delivery queue; replaces 7's claims. Existing uploads become delivered rows,
    /// each with a random 32-hex-digit idempotency key (SQLite: `lower(hex(randomblob(16)))`).
    static let deliveries = Migration<PostgresConnection>(
        version: 8, name: "deliveries",
        up: [
            .sql(
                """
                CREATE TABLE deliveries (
                    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
                    provider_id TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'delivering', 'delivered', 'failed')),
                    attempts BIGINT NOT NULL DEFAULT 0,
                    last_error TEXT,
                    next_attempt_at TEXT NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at TEXT,
                    idempotency_key TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (asset_id, provider_id)
                );
                CREATE INDEX idx_deliveries_due ON deliveries(state, next_attempt_at);
                INSERT INTO deliveries (asset_id, provider_id, state, attempts, next_attempt_at, idempotency_key,
                    created_at, updated_at)
                SELECT asset_id, provider_id, 'delivered', 1, uploaded_at, replace(gen_random_uuid()::text, '-', ''),
                    uploaded_at, uploaded_at
                FROM provider_uploads;
                DROP TABLE IF EXISTS provider_upload_claims;
                """)
        ],
        down: [.sql("DROP TABLE deliveries;\n" + claimsTable)],
        isAlreadyApplied: { db in try db.tableExists("deliveries") }
    )

    // MARK: 9. upload sessions

    /// One row per resumable upload (see `MigrationPlan.uploadSessions`).
    static let uploadSessions = Migration<PostgresConnection>(
        version: MigrationPlan.uploadSessionsVersion, name: "upload_sessions",
        up: [
            .sql(
                """
                CREATE TABLE upload_sessions (
                    id TEXT PRIMARY KEY,
                    user_id BIGINT NOT NULL REFERENCES users(id),
                    provider_id TEXT NOT NULL,
                    filename TEXT,
                    mime_type TEXT,
                    upload_length BIGINT,
                    upload_offset BIGINT NOT NULL DEFAULT 0,
                    hash_state BYTEA NOT NULL,
                    claimed_sha256 TEXT,
                    sha256 TEXT,
                    completed_at TEXT,
                    answered_at TEXT,
                    lock_owner TEXT,
                    locked_at TEXT,
                    created_at TEXT NOT NULL DEFAULT (\(now)),
                    updated_at TEXT NOT NULL DEFAULT (\(now))
                );
                CREATE INDEX idx_upload_sessions_updated ON upload_sessions(updated_at);
                """)
        ],
        down: [.sql("DROP TABLE upload_sessions;")],
        isAlreadyApplied: { db in try db.tableExists("upload_sessions") }
    )

    // MARK: 10. leases

    /// Named leases seen by every node (see `MigrationPlan.leases`).
    static let leases = Migration<PostgresConnection>(
        version: 10, name: "leases",
        up: [
            .sql(
                """
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    expires_at TEXT NOT NULL
                );
                """)
        ],
        down: [.sql("DROP TABLE leases;")],
        isAlreadyApplied: { db in try db.tableExists("leases") }
    )

    // MARK: 11. blob gc marks

    /// Marks of orphan blobs for `assetdedup gc` (see `MigrationPlan.blobGCMarks`).
    static let blobGCMarks = Migration<PostgresConnection>(
        version: 11, name: "blob_gc_marks",
        up: [
            .sql(
                """
                CREATE TABLE blob_gc_marks (
                    sha256 TEXT PRIMARY KEY,
                    size BIGINT NOT NULL,
                    marked_at TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('marked', 'deleting')),
                    state_at TEXT NOT NULL
                );
                CREATE INDEX idx_upload_sessions_sha256 ON upload_sessions(sha256);
                """)
        ],
        down: [.sql("DROP INDEX idx_upload_sessions_sha256; DROP TABLE blob_gc_marks;")],
        isAlreadyApplied: { db in try db.tableExists("blob_gc_marks") }
    )

    // MARK: 12. media fingerprints

    /// Perceptual fingerprints and their 16-bit substrings (see `MigrationPlan.mediaFingerprints`).
    /// Frames and substrings are `INTEGER` (a smaller index); each index carries the hash, the
    /// asset and the frame (`INCLUDE`) so a lookup can be answered from the index alone.
    static let mediaFingerprints = Migration<PostgresConnection>(
        version: 12, name: "media_fingerprints",
        up: [
            .sql(
                """
                CREATE TABLE asset_fingerprints (
                    asset_id BIGINT PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
                    user_id BIGINT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'none')),
                    reason TEXT,
                    duration_seconds DOUBLE PRECISION,
                    computed_at TEXT NOT NULL
                );
                CREATE TABLE asset_fingerprint_hashes (
                    asset_id BIGINT NOT NULL REFERENCES asset_fingerprints(asset_id) ON DELETE CASCADE,
                    frame INTEGER NOT NULL,
                    user_id BIGINT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
                    hash BIGINT NOT NULL,
                    s0 INTEGER NOT NULL,
                    s1 INTEGER NOT NULL,
                    s2 INTEGER NOT NULL,
                    s3 INTEGER NOT NULL,
                    PRIMARY KEY (asset_id, frame)
                );
                CREATE INDEX idx_fingerprint_hashes_s0 ON asset_fingerprint_hashes(user_id, kind, s0)
                    INCLUDE (hash, asset_id, frame);
                CREATE INDEX idx_fingerprint_hashes_s1 ON asset_fingerprint_hashes(user_id, kind, s1)
                    INCLUDE (hash, asset_id, frame);
                CREATE INDEX idx_fingerprint_hashes_s2 ON asset_fingerprint_hashes(user_id, kind, s2)
                    INCLUDE (hash, asset_id, frame);
                CREATE INDEX idx_fingerprint_hashes_s3 ON asset_fingerprint_hashes(user_id, kind, s3)
                    INCLUDE (hash, asset_id, frame);
                """)
        ],
        down: [.sql("DROP TABLE asset_fingerprint_hashes; DROP TABLE asset_fingerprints;")],
        isAlreadyApplied: { db in try db.tableExists("asset_fingerprints") }
    )

    // MARK: 13. near-duplicate reviews

    /// Decisions on near-duplicate groups (see `MigrationPlan.nearDuplicateReviews`).
    static let nearDuplicateReviews = Migration<PostgresConnection>(
        version: 13, name: "near_duplicate_reviews",
        up: [
            .sql(
                """
                CREATE TABLE near_duplicate_reviews (
                    id \(id),
                    user_id BIGINT NOT NULL,
                    anchor_asset_id BIGINT NOT NULL,
                    member_ids TEXT NOT NULL,
                    decision TEXT NOT NULL CHECK (decision IN ('keep', 'ignore')),
                    keep_asset_id BIGINT,
                    note TEXT,
                    reviewed_by TEXT NOT NULL,
                    reviewed_at TEXT NOT NULL DEFAULT (\(now))
                );
                CREATE INDEX idx_near_duplicate_reviews_anchor ON near_duplicate_reviews(anchor_asset_id, id);
                """)
        ],
        down: [.sql("DROP TABLE near_duplicate_reviews;")],
        isAlreadyApplied: { db in try db.tableExists("near_duplicate_reviews") }
    )
}

extension Migrator where Connection == PostgresConnection {
    /// PostgreSQL's plan.
    public init(db: PostgresConnection) throws { try self.init(db: db, plan: PostgresMigrations.plan) }
}

extension SQLStore where Connection == PostgresConnection {
    /// The shared SQL store on a PostgreSQL connection, with PostgreSQL's plan.
    public convenience init(db: PostgresConnection) { self.init(db: db, migrations: PostgresMigrations.plan) }

}

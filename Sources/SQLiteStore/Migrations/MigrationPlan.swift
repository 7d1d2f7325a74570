import AssetDedupCore
import SQLInterface
import SQLiteConnection
import SQLStore

/// The ordered history of the SQLite schema, replaying how the seed system really evolved.
/// Every backend's plan has the same versions with the same names and meaning; migrations
/// written once for every backend (14 on) live beside the generic store, in SQLStore.
extension MigrationPlan {
    /// Every migration, in version order.
    public static let all: [Migration<Database>] = [
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
        uploadKinds(),
        assetTrash(),
        copyChecks(),
        integrity(),
    ]

    /// The newest version this binary knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    static let now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

    // MARK: 1. legacy schema

    /// The seed system's schema: a global UNIQUE on sha256 and a JSON provider map per asset.
    static let legacySchema = Migration<Database>(
        version: 1, name: "legacy_schema",
        up: [
            .sql(
                """
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL DEFAULT (\(now))
                );
                CREATE TABLE assets (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    sha256 TEXT UNIQUE,
                    size INTEGER NOT NULL DEFAULT 0,
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

    /// Columns of `assets` while the provider map is still JSON (versions 1 and 2).
    static let assetColumnsV2 =
        "id, user_id, sha256, size, mime_type, original_filename, provider_id, providers_json, storage_path, created_at, last_accessed_at"

    static func assetsTableV2(name: String, globalUnique: Bool) -> String {
        """
        CREATE TABLE \(name) (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id),
            sha256 TEXT\(globalUnique ? " UNIQUE" : ""),
            size INTEGER NOT NULL DEFAULT 0,
            mime_type TEXT,
            original_filename TEXT,
            provider_id TEXT,
            providers_json TEXT NOT NULL DEFAULT '{}',
            storage_path TEXT,
            created_at TEXT NOT NULL DEFAULT (\(now)),
            last_accessed_at TEXT
        );
        """
    }

    /// Drops the global unique, normalises hashes, merges same-user collisions that
    /// normalisation reveals, and creates the per-user partial unique index.
    static let fixSHA256PerUserDedup = Migration<Database>(
        version: 2, name: "fix_sha256_per_user_dedup",
        up: [
            .sql(
                """
                \(assetsTableV2(name: "assets_new", globalUnique: false))
                INSERT INTO assets_new (\(assetColumnsV2))
                    SELECT id, user_id,
                        CASE WHEN length(trim(sha256)) = 64 AND lower(trim(sha256)) NOT GLOB '*[^0-9a-f]*'
                             THEN lower(trim(sha256)) END,
                        size, mime_type, original_filename, provider_id, providers_json, storage_path,
                        created_at, last_accessed_at
                    FROM assets;
                DROP TABLE assets;
                ALTER TABLE assets_new RENAME TO assets;
                CREATE INDEX idx_assets_user ON assets(user_id);
                CREATE TABLE asset_merges (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    kept_asset_id INTEGER NOT NULL,
                    merged_asset_id INTEGER NOT NULL,
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
                \(assetsTableV2(name: "assets_old", globalUnique: true))
                INSERT INTO assets_old (\(assetColumnsV2)) SELECT \(assetColumnsV2) FROM assets;
                DROP TABLE assets;
                ALTER TABLE assets_old RENAME TO assets;
                CREATE INDEX idx_assets_user ON assets(user_id);
                DROP TABLE asset_merges;
                """),
        ],
        isAlreadyApplied: { db in try db.indexExists("idx_asset_user_sha256") }
    )

    // MARK: 3. provider uploads table

    /// Moves the JSON provider map into rows, one per (asset, provider).
    static let providerUploadsTable = Migration<Database>(
        version: 3, name: "provider_uploads_table",
        up: [
            .swift("refuse_malformed_provider_json_v1", LegacyMerge.refuseMalformedProviderJSON),
            .sql(
                """
                CREATE TABLE provider_uploads (
                    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
                    provider_id TEXT NOT NULL,
                    provider_asset_id TEXT NOT NULL,
                    uploaded_at TEXT NOT NULL DEFAULT (\(now)),
                    PRIMARY KEY (asset_id, provider_id)
                ) WITHOUT ROWID;
                CREATE INDEX idx_provider_uploads_provider ON provider_uploads(provider_id, asset_id);
                INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id, uploaded_at)
                    SELECT a.id, j.key, CAST(j.value AS TEXT), a.created_at
                    FROM assets a, json_each(a.providers_json) j;
                ALTER TABLE assets DROP COLUMN providers_json;
                """),
        ],
        down: [
            .sql(
                """
                ALTER TABLE assets ADD COLUMN providers_json TEXT NOT NULL DEFAULT '{}';
                UPDATE assets SET providers_json = (
                    SELECT json_group_object(provider_id, provider_asset_id)
                    FROM (SELECT provider_id, provider_asset_id FROM provider_uploads p
                          WHERE p.asset_id = assets.id ORDER BY provider_id)
                ) WHERE EXISTS (SELECT 1 FROM provider_uploads p WHERE p.asset_id = assets.id);
                DROP TABLE provider_uploads;
                """)
        ],
        isAlreadyApplied: { db in try db.tableExists("provider_uploads") }
    )

    // MARK: 4. users and tokens

    /// Admin flag and API tokens (only each token's SHA-256 is stored).
    static let usersAndTokens = Migration<Database>(
        version: 4, name: "users_and_tokens",
        up: [
            .sql(
                """
                ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE api_tokens (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
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
    static let duplicateReviews = Migration<Database>(
        version: 5, name: "duplicate_reviews",
        up: [
            .sql(
                """
                CREATE TABLE duplicate_reviews (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    group_sha256 TEXT NOT NULL,
                    decision TEXT NOT NULL CHECK (decision IN ('keep', 'ignore', 'merged')),
                    keep_asset_id INTEGER,
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

    /// A covering index for the nightly reports: grouping by hash (unique content, cross-user
    /// duplicates) and finding rows without a hash read this index instead of sorting the table.
    static let reportIndexes = Migration<Database>(
        version: 6, name: "report_indexes",
        up: [.sql("CREATE INDEX idx_assets_sha256_size_user ON assets(sha256, size, user_id);")],
        down: [.sql("DROP INDEX idx_assets_sha256_size_user;")],
        isAlreadyApplied: { db in try db.indexExists("idx_assets_sha256_size_user") }
    )

    // MARK: 7. provider upload claims

    /// One claim row per (asset, provider) while an upload is on its way, visible to every
    /// process: the API and `sync` both claim before sending, so only one of them sends.
    static let providerUploadClaims = Migration<Database>(
        version: 7, name: "provider_upload_claims",
        up: [
            .sql(
                """
                CREATE TABLE provider_upload_claims (
                    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
                    provider_id TEXT NOT NULL,
                    claimed_by TEXT NOT NULL,
                    claimed_at TEXT NOT NULL,
                    PRIMARY KEY (asset_id, provider_id)
                ) WITHOUT ROWID;
                """)
        ],
        down: [.sql("DROP TABLE provider_upload_claims;")],
        isAlreadyApplied: { db in try db.tableExists("provider_upload_claims") }
    )

    // MARK: 8. deliveries

    /// The durable delivery queue: one row per (asset, provider) ever, leased by whoever sends
    /// it (serve's delivery workers, `sync`). It replaces migration 7's claims, whose table goes:
    /// a live lease is the claim. Existing `provider_uploads` rows become delivered rows so that
    /// every pair the system knows of has one.
    static let deliveries = Migration<Database>(
        version: 8, name: "deliveries",
        up: [
            .sql(
                """
                CREATE TABLE deliveries (
                    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
                    provider_id TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'delivering', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    next_attempt_at TEXT NOT NULL,
                    lease_owner TEXT,
                    lease_expires_at TEXT,
                    idempotency_key TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (asset_id, provider_id)
                ) WITHOUT ROWID;
                CREATE INDEX idx_deliveries_due ON deliveries(state, next_attempt_at);
                INSERT INTO deliveries (asset_id, provider_id, state, attempts, next_attempt_at, idempotency_key,
                    created_at, updated_at)
                SELECT asset_id, provider_id, 'delivered', 1, uploaded_at, lower(hex(randomblob(16))), uploaded_at,
                    uploaded_at
                FROM provider_uploads;
                DROP TABLE IF EXISTS provider_upload_claims;
                """)
        ],
        down: [
            .sql(
                """
                DROP TABLE deliveries;
                CREATE TABLE provider_upload_claims (
                    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
                    provider_id TEXT NOT NULL,
                    claimed_by TEXT NOT NULL,
                    claimed_at TEXT NOT NULL,
                    PRIMARY KEY (asset_id, provider_id)
                ) WITHOUT ROWID;
                """)
        ],
        isAlreadyApplied: { db in try db.tableExists("deliveries") }
    )

    // MARK: upload sessions (resumable uploads)

    /// One row per resumable upload: owner, target provider, the recorded offset with the
    /// SHA-256 state covering exactly those bytes, the append lock, and completion. The bytes
    /// themselves live in `<data>/uploads/<id>.partial`.
    static let uploadSessions = Migration<Database>(
        version: uploadSessionsVersion, name: "upload_sessions",
        up: [
            .sql(
                """
                CREATE TABLE upload_sessions (
                    id TEXT PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users(id),
                    provider_id TEXT NOT NULL,
                    filename TEXT,
                    mime_type TEXT,
                    upload_length INTEGER,
                    upload_offset INTEGER NOT NULL DEFAULT 0,
                    hash_state BLOB NOT NULL,
                    claimed_sha256 TEXT,
                    sha256 TEXT,
                    completed_at TEXT,
                    answered_at TEXT,
                    lock_owner TEXT,
                    locked_at TEXT,
                    created_at TEXT NOT NULL DEFAULT (\(now)),
                    updated_at TEXT NOT NULL DEFAULT (\(now))
                ) WITHOUT ROWID;
                CREATE INDEX idx_upload_sessions_updated ON upload_sessions(updated_at);
                """)
        ],
        down: [.sql("DROP TABLE upload_sessions;")],
        isAlreadyApplied: { db in try db.tableExists("upload_sessions") }
    )

    // MARK: 10. leases

    /// Named leases in the database, seen by every process on every node: "one sync per
    /// provider" (`sync:<provider>`) instead of a lock file only one host could see.
    static let leases = Migration<Database>(
        version: 10, name: "leases",
        up: [
            .sql(
                """
                CREATE TABLE leases (
                    name TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    expires_at TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        ],
        down: [.sql("DROP TABLE leases;")],
        isAlreadyApplied: { db in try db.tableExists("leases") }
    )

    // MARK: 11. blob gc marks

    /// Garbage collection of blobs no asset references (`assetdedup gc`): a mark per orphan
    /// blob, aged one grace period before it is taken ('deleting') and the blob removed. Every
    /// upload that trusts a blob deletes its 'marked' row first (`claimBlobForUpload`), so gc
    /// can never take a blob an upload is about to reference. A completed resumable upload's
    /// row names its blob too (its answer may still be retried), hence the index on
    /// `upload_sessions(sha256)`: "referenced" is an asset or an upload row.
    static let blobGCMarks = Migration<Database>(
        version: 11, name: "blob_gc_marks",
        up: [
            .sql(
                """
                CREATE TABLE blob_gc_marks (
                    sha256 TEXT PRIMARY KEY,
                    size INTEGER NOT NULL,
                    marked_at TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('marked', 'deleting')),
                    state_at TEXT NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX idx_upload_sessions_sha256 ON upload_sessions(sha256);
                """)
        ],
        down: [.sql("DROP INDEX idx_upload_sessions_sha256; DROP TABLE blob_gc_marks;")],
        isAlreadyApplied: { db in try db.tableExists("blob_gc_marks") }
    )

    // MARK: 12. media fingerprints

    /// Perceptual fingerprints (issue 14): one row per fingerprinted asset (its kind, or 'none'
    /// and why), and one row per 64-bit hash (an image's, or each video frame's) with the hash cut
    /// into four 16-bit substrings, each indexed after (user_id, kind). A search within distance
    /// d looks up, per substring, the values within d / 4 bits of the query's (multi-index
    /// hashing): a few hundred index seeks in the user's own rows. The hash is in each index so
    /// the lookup never reads the table.
    static let mediaFingerprints = Migration<Database>(
        version: 12, name: "media_fingerprints",
        up: [
            .sql(
                """
                CREATE TABLE asset_fingerprints (
                    asset_id INTEGER PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
                    user_id INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'none')),
                    reason TEXT,
                    duration_seconds REAL,
                    computed_at TEXT NOT NULL
                );
                CREATE TABLE asset_fingerprint_hashes (
                    asset_id INTEGER NOT NULL REFERENCES asset_fingerprints(asset_id) ON DELETE CASCADE,
                    frame INTEGER NOT NULL,
                    user_id INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
                    hash INTEGER NOT NULL,
                    s0 INTEGER NOT NULL,
                    s1 INTEGER NOT NULL,
                    s2 INTEGER NOT NULL,
                    s3 INTEGER NOT NULL,
                    PRIMARY KEY (asset_id, frame)
                ) WITHOUT ROWID;
                CREATE INDEX idx_fingerprint_hashes_s0 ON asset_fingerprint_hashes(user_id, kind, s0, hash);
                CREATE INDEX idx_fingerprint_hashes_s1 ON asset_fingerprint_hashes(user_id, kind, s1, hash);
                CREATE INDEX idx_fingerprint_hashes_s2 ON asset_fingerprint_hashes(user_id, kind, s2, hash);
                CREATE INDEX idx_fingerprint_hashes_s3 ON asset_fingerprint_hashes(user_id, kind, s3, hash);
                """)
        ],
        down: [.sql("DROP TABLE asset_fingerprint_hashes; DROP TABLE asset_fingerprints;")],
        isAlreadyApplied: { db in try db.tableExists("asset_fingerprints") }
    )

    // MARK: 13. near-duplicate reviews

    /// Admin decisions on near-duplicate groups (issue 14): keyed by the group's lowest asset id,
    /// with the members the decision was taken on (a group changes as assets come and go; the
    /// report shows a decision on other members as out of date, not as applying).
    static let nearDuplicateReviews = Migration<Database>(
        version: 13, name: "near_duplicate_reviews",
        up: [
            .sql(
                """
                CREATE TABLE near_duplicate_reviews (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL,
                    anchor_asset_id INTEGER NOT NULL,
                    member_ids TEXT NOT NULL,
                    decision TEXT NOT NULL CHECK (decision IN ('keep', 'ignore')),
                    keep_asset_id INTEGER,
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

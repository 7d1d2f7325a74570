import SQLInterface

/// The schema's history, as each backend writes it. The migrations here are written once, in
/// the SQL every backend shares (14 on); each backend's target adds its own literal texts of the
/// earlier ones (frozen by their checksums) and its `all` list: SQLite's in SQLiteStore,
/// PostgreSQL's in PostgresStore (`PostgresMigrations`).
public enum MigrationPlan {
    /// The one place the upload sessions migration's number is written (after 8, `deliveries`).
    public static let uploadSessionsVersion = 9

    // MARK: 14. upload kinds (written once for every backend)

    /// tus uploads (issue 22): `kind` is 'single' (an asset), 'partial' (one part of a tus
    /// concatenation, whose provider the final upload names: `provider_id` is '' then) or
    /// 'final' (the joined upload, `concat` its parts' URLs); `metadata` is the client's
    /// `Upload-Metadata`, echoed by HEAD. Plain SQL both backends share, so the one text serves
    /// every plan (and one checksum).
    public static func uploadKinds<C: SQLConnection>() -> Migration<C> {
        Migration<C>(
            version: 14, name: "upload_kinds",
            up: [
                .sql(
                    """
                    ALTER TABLE upload_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'single';
                    ALTER TABLE upload_sessions ADD COLUMN metadata TEXT;
                    ALTER TABLE upload_sessions ADD COLUMN concat TEXT;
                    CREATE INDEX idx_upload_sessions_partial ON upload_sessions(user_id) WHERE kind = 'partial';
                    """)
            ],
            down: [
                .sql(
                    """
                    DROP INDEX idx_upload_sessions_partial;
                    ALTER TABLE upload_sessions DROP COLUMN concat;
                    ALTER TABLE upload_sessions DROP COLUMN metadata;
                    ALTER TABLE upload_sessions DROP COLUMN kind;
                    """)
            ],
            isAlreadyApplied: { db in try db.indexExists("idx_upload_sessions_partial") })
    }

    // MARK: 15. asset trash (written once for every backend)

    /// The asset lifecycle (issue 26): `trashed_at` marks an asset the user deleted (hidden from
    /// checks and lists, restorable, purged after the retention). Indexed by user for the trash
    /// listing and by time for the purge.
    public static func assetTrash<C: SQLConnection>() -> Migration<C> {
        Migration<C>(
            version: 15, name: "asset_trash",
            up: [
                .sql(
                    """
                    ALTER TABLE assets ADD COLUMN trashed_at TEXT;
                    CREATE INDEX idx_assets_trash ON assets(user_id, id) WHERE trashed_at IS NOT NULL;
                    CREATE INDEX idx_assets_trashed_at ON assets(trashed_at) WHERE trashed_at IS NOT NULL;
                    """)
            ],
            down: [
                .sql(
                    """
                    DROP INDEX idx_assets_trashed_at;
                    DROP INDEX idx_assets_trash;
                    ALTER TABLE assets DROP COLUMN trashed_at;
                    """)
            ],
            isAlreadyApplied: { db in try db.indexExists("idx_assets_trash") })
    }

    // MARK: 16. copy checks (written once for every backend)

    /// `assetdedup verify` (issue 24): the last check of each stored copy of some content, the
    /// blob (`location` 'blob') or a provider's copy (`location` the provider id): its state
    /// (ok, missing, corrupt, unreachable, unverifiable), what was found, and when.
    public static func copyChecks<C: SQLConnection>() -> Migration<C> {
        Migration<C>(
            version: 16, name: "copy_checks",
            up: [
                .sql(
                    """
                    CREATE TABLE copy_checks (
                        sha256 TEXT NOT NULL,
                        location TEXT NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('ok', 'missing', 'corrupt', 'unreachable', 'unverifiable')),
                        detail TEXT,
                        checked_at TEXT NOT NULL,
                        PRIMARY KEY (sha256, location)
                    );
                    CREATE INDEX idx_copy_checks_checked ON copy_checks(checked_at);
                    """)
            ],
            down: [.sql("DROP TABLE copy_checks;")],
            isAlreadyApplied: { db in try db.tableExists("copy_checks") })
    }

    // MARK: 17. integrity: repairs and verify passes (written once for every backend)

    /// `verify --repair` and serve's repair job (issue 24): every repair attempted, done or not
    /// (the integrity report counts them); and the checkpoint of a whole verify pass (when it
    /// began, when it ended), so a run that was cut short is continued by the next one.
    public static func integrity<C: SQLConnection>() -> Migration<C> {
        Migration<C>(
            version: 17, name: "integrity",
            up: [
                .sql(
                    """
                    CREATE TABLE copy_repairs (
                        sha256 TEXT NOT NULL,
                        location TEXT NOT NULL,
                        done INTEGER NOT NULL,
                        what TEXT NOT NULL,
                        repaired_at TEXT NOT NULL
                    );
                    CREATE INDEX idx_copy_repairs_at ON copy_repairs(repaired_at);
                    CREATE TABLE verify_passes (
                        name TEXT PRIMARY KEY,
                        started_at TEXT NOT NULL,
                        finished_at TEXT
                    );
                    """)
            ],
            down: [.sql("DROP TABLE verify_passes; DROP TABLE copy_repairs;")],
            isAlreadyApplied: { db in try db.tableExists("verify_passes") })
    }
}

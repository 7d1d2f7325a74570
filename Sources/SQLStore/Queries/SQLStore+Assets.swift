import AssetDedupCore
import Foundation
import SQLInterface

extension SQLStore {
    static var assetColumns: String {
        "id, user_id, sha256, size, mime_type, original_filename, provider_id, created_at, last_accessed_at, trashed_at"
    }

    /// The caller's asset with this content (in the trash too), or nil. Read-only: touches no column.
    /// One statement (asset LEFT JOIN its uploads): this is the check-by-hash hot path.
    public func findAsset(user: UserID, sha256: SHA256Digest) throws -> Asset? {
        var found: Asset?
        try db.forEachRow(
            """
            SELECT a.id, a.user_id, a.sha256, a.size, a.mime_type, a.original_filename, a.provider_id, a.created_at,
                a.last_accessed_at, a.trashed_at, p.provider_id, p.provider_asset_id
            FROM assets a LEFT JOIN provider_uploads p ON p.asset_id = a.id
            WHERE a.user_id = ? AND a.sha256 = ?
            """, [user.rawValue, sha256.hex], cached: true
        ) { row in
            if found == nil { found = Self.asset(row) }
            if let provider = row.optionalText(10).flatMap({ try? ProviderID(parsing: $0) }) {
                found?.uploads[provider] = row.text(11)
            }
        }
        return found
    }

    /// The asset if it belongs to `user`; another user's asset is nil, exactly like a missing one.
    public func asset(id: AssetID, user: UserID) throws -> Asset? {
        guard
            var asset = try db.queryFirst(
                "SELECT \(Self.assetColumns) FROM assets WHERE id = ? AND user_id = ?",
                [id.rawValue, user.rawValue], row: Self.asset)
        else { return nil }
        asset.uploads = try uploads(of: asset.id)
        return asset
    }

    /// What check-by-hash needs of the caller's live asset with this content (one in the trash is
    /// not offered), or nil. Read-only.
    /// Narrower than `findAsset` (no row mapping of names, dates or hashes): the hot path.
    public func assetPresence(user: UserID, sha256: SHA256Digest) throws -> AssetPresence? {
        var found: AssetPresence?
        try db.forEachRow(
            """
            SELECT a.id, a.provider_id, p.provider_id
            FROM assets a LEFT JOIN provider_uploads p ON p.asset_id = a.id
            WHERE a.user_id = ? AND a.sha256 = ? AND a.trashed_at IS NULL ORDER BY p.provider_id
            """, [user.rawValue, sha256.hex], cached: true
        ) { row in Self.fold(row, from: 0, into: &found) }
        return found
    }

    /// Adds one row of "asset id, its provider_id, one uploaded provider" (from `column` on) to
    /// `presence`: the first row makes it (unless the asset id is NULL), each row adds a provider.
    static func fold(_ row: Row, from column: Int32, into presence: inout AssetPresence?) {
        if presence == nil, let id = row.optionalInt(column) {
            presence = AssetPresence(
                id: AssetID(id), providerID: row.optionalText(column + 1).flatMap { try? ProviderID(parsing: $0) },
                uploadedProviders: [])
        }
        if let provider = row.optionalText(column + 2).flatMap({ try? ProviderID(parsing: $0) }) {
            presence?.uploadedProviders.append(provider)
        }
    }

    /// `authenticate(token:)` and `assetPresence` in one statement (the same rows: the token's
    /// user, then that user's asset and its providers). Read-only.
    public func presence(token: String, sha256: SHA256Digest) throws -> (
        user: AuthenticatedUser, asset: AssetPresence?
    )? {
        var user: AuthenticatedUser?
        var asset: AssetPresence?
        try db.forEachRow(
            """
            SELECT u.id, u.name, u.is_admin, t.id, t.last_used_at, a.id, a.provider_id, p.provider_id
            FROM api_tokens t JOIN users u ON u.id = t.user_id
            LEFT JOIN assets a ON a.user_id = u.id AND a.sha256 = ? AND a.trashed_at IS NULL
            LEFT JOIN provider_uploads p ON p.asset_id = a.id
            WHERE t.token_sha256 = ? AND t.revoked_at IS NULL ORDER BY p.provider_id
            """, [sha256.hex, Self.tokenHash(token)], cached: true
        ) { row in
            if user == nil { user = Self.authenticatedUser(row) }
            Self.fold(row, from: 5, into: &asset)
        }
        return user.map { ($0, asset) }
    }

    /// One page of the user's live assets in id order, starting after `after` (keyset pagination).
    public func listAssets(user: UserID, after: AssetID?, limit: Int) throws -> [Asset] {
        var assets = try db.query(
            """
            SELECT \(Self.assetColumns) FROM assets WHERE user_id = ? AND id > ? AND trashed_at IS NULL
            ORDER BY id LIMIT ?
            """,
            [user.rawValue, after?.rawValue ?? 0, limit], row: Self.asset)
        for index in assets.indices {
            assets[index].uploads = try uploads(of: assets[index].id)
        }
        return assets
    }

    /// Provider id -> provider asset id for one asset.
    public func uploads(of asset: AssetID) throws -> [ProviderID: String] {
        let pairs = try db.query(
            "SELECT provider_id, provider_asset_id FROM provider_uploads WHERE asset_id = ?", [asset.rawValue]
        ) { (try? ProviderID(parsing: $0.text(0)), $0.text(1)) }
        var uploads: [ProviderID: String] = [:]
        for case (let provider?, let id) in pairs { uploads[provider] = id }
        return uploads
    }

    /// Inserts the asset unless the user already has one with that hash; returns the asset and
    /// whether it was created. The user's asset in the trash is restored (the same row: one
    /// asset per user and content). Safe against concurrent callers: write transactions are
    /// serialised (a PostgreSQL conflict is retried, then finds the other's row), and the
    /// unique index is the backstop.
    public func findOrCreateAsset(_ new: NewAsset) throws -> (asset: Asset, created: Bool) {
        try db.writeTransaction {
            if let sha256 = new.sha256, var existing = try findAsset(user: new.userID, sha256: sha256) {
                if existing.trashedAt != nil {
                    try db.run("UPDATE assets SET trashed_at = NULL WHERE id = ?", [existing.id.rawValue])
                    existing.trashedAt = nil
                }
                return (existing, false)
            }
            let id = try insertAsset(new)
            return (try asset(id: id, user: new.userID)!, true)
        }
    }

    /// Inserts a row as given. A second row for one user's content is `StoreError.duplicateAsset`.
    @discardableResult
    public func insertAsset(_ new: NewAsset) throws -> AssetID {
        do {
            return AssetID(
                try db.queryFirst(
                    """
                    INSERT INTO assets (user_id, sha256, size, mime_type, original_filename, provider_id, storage_path, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, coalesce(?, \(Self.now))) RETURNING id
                    """,
                    [
                        new.userID.rawValue, new.sha256?.hex, new.size, new.mimeType, new.originalFilename,
                        new.providerID?.rawValue, new.storagePath, new.createdAt,
                    ]
                ) { $0.int(0) }!)
        } catch let error as SQLFailure where error.isUniqueViolation {
            throw StoreError.duplicateAsset(user: new.userID, sha256: new.sha256!)
        }
    }

    /// Records that the asset is on `provider` as `providerAssetID`; a second record for the
    /// same pair keeps the first (the provider already has the content). Marks the pair's
    /// delivery delivered in the same transaction: a delivered job always has its row.
    @discardableResult
    public func recordUpload(asset: AssetID, provider: ProviderID, providerAssetID: String) throws -> Bool {
        try db.writeTransaction {
            let inserted =
                try db.run(
                    """
                    INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id) VALUES (?, ?, ?)
                    ON CONFLICT (asset_id, provider_id) DO NOTHING
                    """, [asset.rawValue, provider.rawValue, providerAssetID]) == 1
            try markDelivered(asset: asset, provider: provider, now: Date())
            return inserted
        }
    }

    static func asset(_ row: Row) -> Asset {
        Asset(
            id: AssetID(row.int(0)), userID: UserID(row.int(1)),
            sha256: row.optionalText(2).flatMap { try? SHA256Digest(parsing: $0) }, size: row.int(3),
            mimeType: row.optionalText(4), originalFilename: row.optionalText(5),
            providerID: row.optionalText(6).flatMap { try? ProviderID(parsing: $0) }, createdAt: row.text(7),
            lastAccessedAt: row.optionalText(8), trashedAt: row.optionalText(9))
    }
}

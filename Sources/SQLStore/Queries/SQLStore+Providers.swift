import AssetDedupCore
import SQLInterface

/// Provider coverage: what `sync` must still push, and where an asset is (`whereis`).
extension SQLStore {
    /// One page of assets that have a hash but no `provider_uploads` row for `provider`, in id
    /// order after `after` (keyset pagination: rows recorded meanwhile simply drop out, and a
    /// failed asset is not seen again in the same run). Scoped to `user` when given.
    public func assetsMissing(on provider: ProviderID, user: UserID? = nil, after: AssetID?, limit: Int) throws
        -> [Asset]
    {
        try db.query(
            """
            SELECT \(Self.assetColumns) FROM assets a
            WHERE a.sha256 IS NOT NULL AND a.id > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR a.user_id = ?2)
              AND NOT EXISTS (SELECT 1 FROM provider_uploads u WHERE u.asset_id = a.id AND u.provider_id = ?3)
            ORDER BY a.id LIMIT ?4
            """, [after?.rawValue ?? 0, user?.rawValue, provider.rawValue, limit], row: Self.asset)
    }

    /// Totals for `assetsMissing(on:user:...)`, for progress and ETA.
    public func countMissing(on provider: ProviderID, user: UserID? = nil) throws -> MissingOnProvider {
        try db.queryFirst(
            """
            SELECT count(*), coalesce(sum(a.size), 0) FROM assets a
            WHERE a.sha256 IS NOT NULL AND (CAST(?1 AS BIGINT) IS NULL OR a.user_id = ?1)
              AND NOT EXISTS (SELECT 1 FROM provider_uploads u WHERE u.asset_id = a.id AND u.provider_id = ?2)
            """, [user?.rawValue, provider.rawValue]
        ) { MissingOnProvider(count: Int($0.int(0)), bytes: $0.int(1)) } ?? MissingOnProvider(count: 0, bytes: 0)
    }

    /// Legacy rows without a hash, which `sync` cannot push until `backfill` has run.
    public func countUnhashed(user: UserID? = nil) throws -> Int {
        Int(
            try db.queryFirst(
                "SELECT count(*) FROM assets WHERE sha256 IS NULL AND (CAST(?1 AS BIGINT) IS NULL OR user_id = ?1)", [user?.rawValue]
            ) { $0.int(0) } ?? 0)
    }

    /// Every user's asset with this content (no `user`), or the one user's; oldest first.
    public func assets(sha256: SHA256Digest, user: UserID? = nil) throws -> [Asset] {
        var assets = try db.query(
            "SELECT \(Self.assetColumns) FROM assets WHERE sha256 = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR user_id = ?2) ORDER BY id",
            [sha256.hex, user?.rawValue], row: Self.asset)
        for index in assets.indices { assets[index].uploads = try uploads(of: assets[index].id) }
        return assets
    }

    /// The asset with this id whoever owns it (operator tools only; the API uses `asset(id:user:)`).
    public func anyUsersAsset(id: AssetID) throws -> Asset? {
        guard
            var asset = try db.queryFirst(
                "SELECT \(Self.assetColumns) FROM assets WHERE id = ?", [id.rawValue], row: Self.asset)
        else { return nil }
        asset.uploads = try uploads(of: asset.id)
        return asset
    }

    /// The asset's `provider_uploads` rows with their times, by provider id.
    public func uploadRecords(of asset: AssetID) throws -> [ProviderUpload] {
        try db.query(
            """
            SELECT asset_id, provider_id, provider_asset_id, uploaded_at FROM provider_uploads
            WHERE asset_id = ? ORDER BY provider_id
            """, [asset.rawValue]
        ) { row in
            (try? ProviderID(parsing: row.text(1))).map {
                ProviderUpload(
                    assetID: AssetID(row.int(0)), providerID: $0, providerAssetID: row.text(2), uploadedAt: row.text(3))
            }
        }.compactMap { $0 }
    }

    /// The provider's id for the asset if it is recorded there (checked again just before an upload).
    public func providerAssetID(of asset: AssetID, on provider: ProviderID) throws -> String? {
        try db.queryFirst(
            "SELECT provider_asset_id FROM provider_uploads WHERE asset_id = ? AND provider_id = ?",
            [asset.rawValue, provider.rawValue]
        ) { $0.text(0) }
    }
}

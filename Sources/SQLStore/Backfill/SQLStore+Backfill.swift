import AssetDedupCore
import SQLInterface

extension SQLStore {
    /// How many rows still have no hash.
    public func unhashedAssetCount() throws -> Int {
        Int(try db.queryFirst("SELECT count(*) FROM assets WHERE sha256 IS NULL") { $0.int(0) } ?? 0)
    }

    /// The next rows without a hash, in id order, after `after`.
    public func unhashedAssets(after: AssetID?, limit: Int) throws -> [BackfillRow] {
        try db.query(
            "SELECT id, user_id, storage_path, size FROM assets WHERE sha256 IS NULL AND id > ? ORDER BY id LIMIT ?",
            [after?.rawValue ?? 0, limit]
        ) { BackfillRow(assetID: AssetID($0.int(0)), userID: UserID($0.int(1)), storagePath: $0.optionalText(2), size: $0.int(3)) }
    }

    /// Records a computed hash in one transaction. When the user already has an asset with this
    /// hash, keeps the older row, moves the newer row's provider uploads onto it (the kept row's
    /// id wins for a provider both have; the loser is kept in `asset_merges`), repoints reviews,
    /// and deletes the newer row.
    public func recordBackfilledHash(asset id: AssetID, sha256: SHA256Digest, size: Int64) throws -> BackfillOutcome {
        try db.writeTransaction {
            guard
                let row = try db.queryFirst(
                    "SELECT user_id, sha256 IS NOT NULL, created_at FROM assets WHERE id = ?", [id.rawValue],
                    row: { (user: UserID($0.int(0)), hashed: $0.int(1) == 1, createdAt: $0.text(2)) })
            else { return .alreadyHashed(id) }
            if row.hashed { return .alreadyHashed(id) }
            guard let twin = try findAsset(user: row.user, sha256: sha256) else {
                try db.run("UPDATE assets SET sha256 = ?, size = ? WHERE id = ?", [sha256.hex, size, id.rawValue])
                return .hashed(id)
            }
            let rowIsOlder = (row.createdAt, id.rawValue) < (twin.createdAt, twin.id.rawValue)
            let (kept, removed) = rowIsOlder ? (id, twin.id) : (twin.id, id)
            try merge(removed: removed, into: kept, user: row.user, sha256: sha256)
            if rowIsOlder {
                try db.run("UPDATE assets SET sha256 = ?, size = ? WHERE id = ?", [sha256.hex, size, kept.rawValue])
            }
            return .merged(kept: kept, removed: removed)
        }
    }

    /// Folds one asset row into another of the same user and content; call inside a transaction.
    func merge(removed: AssetID, into kept: AssetID, user: UserID, sha256: SHA256Digest) throws {
        let uploads = try db.query(
            "SELECT provider_id, provider_asset_id FROM provider_uploads WHERE asset_id = ?", [removed.rawValue],
            cached: false
        ) { ($0.text(0), $0.text(1)) }
        try db.run(
            """
            INSERT INTO asset_merges (user_id, sha256, kept_asset_id, merged_asset_id, merged_original_filename,
                merged_providers, source)
            SELECT ?, ?, ?, a.id, a.original_filename, ?, 'backfill'
            FROM assets a WHERE a.id = ?
            """,
            [user.rawValue, sha256.hex, kept.rawValue, try ProviderMap.json(uploads), removed.rawValue])
        try db.run(
            """
            INSERT INTO provider_uploads (asset_id, provider_id, provider_asset_id, uploaded_at)
            SELECT ?, provider_id, provider_asset_id, uploaded_at FROM provider_uploads WHERE asset_id = ?
            ON CONFLICT (asset_id, provider_id) DO NOTHING
            """, [kept.rawValue, removed.rawValue])
        try db.run(
            """
            UPDATE assets SET last_accessed_at = (
                SELECT max(last_accessed_at) FROM assets WHERE id IN (?, ?)) WHERE id = ?
            """, [kept.rawValue, removed.rawValue, kept.rawValue])
        try db.run(
            "UPDATE duplicate_reviews SET keep_asset_id = ? WHERE keep_asset_id = ?", [kept.rawValue, removed.rawValue])
        try db.run("DELETE FROM assets WHERE id = ?", [removed.rawValue])
    }
}

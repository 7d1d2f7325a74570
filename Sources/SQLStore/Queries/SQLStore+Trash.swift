import AssetDedupCore
import Foundation
import SQLInterface

/// The asset lifecycle: trash, restore, purge (issue 26).
extension SQLStore: AssetLifecycle {
    public func trashAsset(id: AssetID, user: UserID) throws -> Asset? {
        try db.writeTransaction {
            try db.run(
                "UPDATE assets SET trashed_at = \(Self.now) WHERE id = ? AND user_id = ? AND trashed_at IS NULL",
                [id.rawValue, user.rawValue])
            return try asset(id: id, user: user)
        }
    }

    public func restoreAsset(id: AssetID, user: UserID) throws -> Asset? {
        try db.writeTransaction {
            try db.run(
                "UPDATE assets SET trashed_at = NULL WHERE id = ? AND user_id = ?", [id.rawValue, user.rawValue])
            return try asset(id: id, user: user)
        }
    }

    public func listTrash(user: UserID, after: AssetID?, limit: Int) throws -> [Asset] {
        var assets = try db.query(
            """
            SELECT \(Self.assetColumns) FROM assets WHERE user_id = ? AND id > ? AND trashed_at IS NOT NULL
            ORDER BY id LIMIT ?
            """, [user.rawValue, after?.rawValue ?? 0, limit], row: Self.asset)
        for index in assets.indices { assets[index].uploads = try uploads(of: assets[index].id) }
        return assets
    }

    public func trashedAssets(before cutoff: String, limit: Int) throws -> [AssetID] {
        try db.query(
            "SELECT id FROM assets WHERE trashed_at IS NOT NULL AND trashed_at < ? ORDER BY trashed_at, id LIMIT ?",
            [cutoff, limit]
        ) { AssetID($0.int(0)) }
    }

    public func purgeAsset(id: AssetID, minCopies: Int) throws -> PurgeOutcome {
        try db.writeTransaction {
            guard
                var asset = try db.queryFirst(
                    "SELECT \(Self.assetColumns) FROM assets WHERE id = ?", [id.rawValue], row: Self.asset)
            else { return .notFound }
            guard asset.trashedAt != nil else { return .notTrashed }
            let sending = try db.queryFirst(
                "SELECT 1 FROM deliveries WHERE asset_id = ? AND state = 'delivering'", [id.rawValue]
            ) { _ in true }
            if sending == true { return .deliveryInProgress }
            asset.uploads = try uploads(of: id)
            // A provider copy is content-addressed by most adapters: keep it while any other
            // asset (any user's) with the same content is recorded on that provider.
            var sole: [ProviderID: String] = [:]
            var keptForLive: [ProviderID: AssetID] = [:]
            for (provider, providerAssetID) in asset.uploads.sorted(by: { $0.key < $1.key }) {
                let shared =
                    try asset.sha256.map { sha256 in
                        try db.queryFirst(
                            """
                            SELECT 1 FROM provider_uploads p JOIN assets a ON a.id = p.asset_id
                            WHERE p.provider_id = ? AND a.sha256 = ? AND a.id <> ?
                            """, [provider.rawValue, sha256.hex, id.rawValue]
                        ) { _ in true } ?? false
                    } ?? false
                guard !shared else { continue }
                // Provider ids stay per user, so the copy is not recorded for the live asset (another
                // user's); it is only not deleted. Minimum-copies enforcement queues a delivery for
                // that asset, which a content-addressed provider answers "already there".
                if let sha256 = asset.sha256,
                    let live = try liveUser(sha256: sha256, purged: id, provider: provider, minCopies: minCopies)
                {
                    keptForLive[provider] = live
                } else {
                    sole[provider] = providerAssetID
                }
            }
            try db.run("DELETE FROM assets WHERE id = ?", [id.rawValue])
            return .purged(PurgedAsset(asset: asset, soleCopies: sole, keptForLive: keptForLive))
        }
    }

    /// The oldest live asset with this content, when `provider`'s copy (about to lose its only
    /// record) is one the content needs: its good copies on other providers, recorded for
    /// assets other than the one purged and not found missing or corrupt, are fewer than
    /// `max(1, minCopies)`. Nil: no live asset uses the content, or it has copies enough.
    private func liveUser(sha256: SHA256Digest, purged: AssetID, provider: ProviderID, minCopies: Int) throws
        -> AssetID?
    {
        guard
            let heir = try db.queryFirst(
                "SELECT min(id) FROM assets WHERE sha256 = ? AND trashed_at IS NULL AND id <> ?",
                [sha256.hex, purged.rawValue], cached: false, row: { $0.optionalInt(0) }) ?? nil
        else { return nil }
        let others =
            try db.queryFirst(
                """
                SELECT count(DISTINCT p.provider_id) FROM provider_uploads p JOIN assets a ON a.id = p.asset_id
                WHERE a.sha256 = ?1 AND a.id <> ?2 AND p.provider_id <> ?3 AND NOT EXISTS (
                    SELECT 1 FROM copy_checks c WHERE c.sha256 = ?1 AND c.location = p.provider_id
                      AND c.state IN ('missing', 'corrupt'))
                """, [sha256.hex, purged.rawValue, provider.rawValue], cached: false, row: { $0.int(0) }) ?? 0
        return others < max(1, minCopies) ? AssetID(heir) : nil
    }
}

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

    public func purgeAsset(id: AssetID) throws -> PurgeOutcome {
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
            for (provider, providerAssetID) in asset.uploads {
                let shared =
                    try asset.sha256.map { sha256 in
                        try db.queryFirst(
                            """
                            SELECT 1 FROM provider_uploads p JOIN assets a ON a.id = p.asset_id
                            WHERE p.provider_id = ? AND a.sha256 = ? AND a.id <> ?
                            """, [provider.rawValue, sha256.hex, id.rawValue]
                        ) { _ in true } ?? false
                    } ?? false
                if !shared { sole[provider] = providerAssetID }
            }
            try db.run("DELETE FROM assets WHERE id = ?", [id.rawValue])
            return .purged(PurgedAsset(asset: asset, soleCopies: sole))
        }
    }
}

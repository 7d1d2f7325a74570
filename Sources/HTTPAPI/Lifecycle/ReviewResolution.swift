import AssetDedupCore
import StoreProtocols

/// A near-duplicate review that keeps one asset trashes the group's others (one user's assets:
/// the groups are per user), so the decision acts; each stays restorable from the trash.
/// Used by `POST /admin/near-duplicates/{id}/review` and `assetdedup review-similar`.
public enum ReviewResolution {
    /// Trashes every member but the kept one; returns the ids it moved to the trash.
    @discardableResult
    public static func trashOthers(of review: NearDuplicateReview, store: any AssetLifecycle & DeliveryQueue) throws
        -> [AssetID]
    {
        guard review.decision == "keep", let keep = review.keepAssetID,
            let owner = try store.anyUsersAsset(id: keep)?.userID
        else { return [] }
        var trashed: [AssetID] = []
        for member in review.memberIDs where member != keep {
            if let asset = try store.anyUsersAsset(id: member), asset.userID == owner, asset.trashedAt == nil,
                try store.trashAsset(id: member, user: owner) != nil
            {
                trashed.append(member)
            }
        }
        return trashed
    }
}

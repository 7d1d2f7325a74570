import AssetDedupCore
import StoreProtocols

/// Near-duplicate groups per user as the near-duplicates page needs them: totals over every
/// group, the largest groups the page lists, and where fingerprinting stands.
///
/// Fingerprints stream from the store by user; one user's are held at a time and grouped with
/// `NearDuplicateGrouping` (connected components of matching pairs, found through the index), so
/// memory grows with the largest user, not the store. Groups never cross users.
struct NearDuplicateSummary: Sendable {
    struct Member: Sendable {
        var assetID: AssetID
        var originalFilename: String?
        var sha256: String
        var size: Int64
        /// Distance to the nearest other member of the group.
        var nearest: Int
        /// A `data:image/jpeg;base64,...` thumbnail, for the HTML page only; nil when none could be made.
        var thumbnail: String?
    }

    struct Group: Sendable {
        var userID: UserID
        var userName: String
        var kind: MediaFingerprint.Kind
        var members: [Member]
        /// The newest review of this anchor, when it was taken on exactly these members.
        var review: NearDuplicateReview?
        /// The newest review of this anchor, when it was taken on other members (out of date).
        var staleReview: NearDuplicateReview?

        var anchor: AssetID { members[0].assetID }
    }

    /// False on a schema without fingerprints (before migration 13): the page says so.
    var available = true
    var totals = FingerprintTotals(images: 0, videos: 0, unavailable: 0, pending: 0)
    var threshold = Self.defaultThreshold
    static let defaultThreshold = PerceptualHash64.defaultThreshold
    var groupCount = 0
    var assetCount = 0
    var reviewedGroups = 0
    /// The `keep` largest groups, in page order (`ranksBefore`).
    private(set) var top: [Group] = []
    let keep: Int

    init(keep: Int) { self.keep = max(keep, 0) }

    /// Page order: most members first, then by anchor, so the listing is deterministic.
    static func ranksBefore(_ a: Group, _ b: Group) -> Bool {
        a.members.count != b.members.count ? a.members.count > b.members.count : a.anchor < b.anchor
    }

    mutating func add(_ group: Group) {
        groupCount += 1
        assetCount += group.members.count
        if group.review != nil { reviewedGroups += 1 }
        guard keep > 0 else { return }
        if top.count == keep, !Self.ranksBefore(group, top[keep - 1]) { return }
        let slot = top.firstIndex { Self.ranksBefore(group, $0) } ?? top.count
        top.insert(group, at: slot)
        if top.count > keep { top.removeLast() }
    }

    /// Adds a thumbnail to each listed member (the HTML page shows them inline).
    mutating func attachThumbnails(_ thumbnail: (String) -> String?) {
        for g in top.indices {
            for m in top[g].members.indices {
                top[g].members[m].thumbnail = thumbnail(top[g].members[m].sha256)
            }
        }
    }
}

extension NearDuplicateSummary {
    /// Reads every fingerprint, groups each user's, and hands every group to `group` (the
    /// exports) as it is found.
    static func load(
        from store: any NearDuplicateReads, keep: Int, threshold: Int = defaultThreshold,
        group visit: (Group) throws -> Void
    ) throws -> NearDuplicateSummary {
        var summary = NearDuplicateSummary(keep: keep)
        summary.threshold = threshold
        guard try store.hasNearDuplicateTables() else {
            summary.available = false
            return summary
        }
        summary.totals = try store.fingerprintTotals()
        let reviews = try store.latestNearDuplicateReviews()
        var userAssets: [FingerprintedAsset] = []
        func flushUser() throws {
            guard let first = userAssets.first else { return }
            let byID = Dictionary(uniqueKeysWithValues: userAssets.map { ($0.assetID, $0) })
            let groups = NearDuplicateGrouping.groups(
                userAssets.map { .init(id: $0.assetID.rawValue, fingerprint: $0.fingerprint) }, threshold: threshold)
            for found in groups {
                let members = found.ids.map { id in
                    let asset = byID[AssetID(id)]!
                    return Member(
                        assetID: asset.assetID, originalFilename: asset.originalFilename, sha256: asset.sha256,
                        size: asset.size, nearest: found.nearest[id] ?? 0)
                }
                let review = reviews[AssetID(found.anchor)]
                let current = review.map { $0.memberIDs == members.map(\.assetID) } ?? false
                let group = Group(
                    userID: first.userID, userName: first.userName, kind: found.kind, members: members,
                    review: current ? review : nil, staleReview: current ? nil : review)
                try visit(group)
                summary.add(group)
            }
            userAssets.removeAll(keepingCapacity: true)
        }
        try store.forEachFingerprintedAsset(user: nil) { asset in
            if let last = userAssets.last, last.userID != asset.userID { try flushUser() }
            userAssets.append(asset)
        }
        try flushUser()
        return summary
    }
}

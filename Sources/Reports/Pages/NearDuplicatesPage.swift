import StoreProtocols

/// The near-duplicates page: per user, assets that look alike (perceptual hashes within the
/// threshold) though their bytes differ, with the nearest distance, small inline thumbnails in
/// the HTML page, and the review state.
struct NearDuplicatesPage: Sendable {
    struct Member: Sendable {
        var assetID: String
        var filename: String
        var distance: String
        /// `data:image/jpeg;base64,...`, HTML page only.
        var thumbnail: String
        var hasThumbnail: Bool
        /// The template puts " · " after every member but the last (Mustache has no last-item test).
        var isLast: Bool
    }

    struct Group: Sendable {
        var anchor: String
        var user: String
        var kind: String
        var count: String
        var members: [Member]
        var review: String
    }

    var format: PageFormat
    var generatedAt: String
    var available: Bool
    var threshold: String
    var images: String
    var videos: String
    var unavailable: String
    var pending: String
    var groupCount: String
    var assetsInGroups: String
    var reviewedGroups: String
    var unreviewedGroups: String
    var groups: [Group]
    var hasGroups: Bool
    var groupsOmitted: String
    var hasOmittedGroups: Bool

    init(data: ReportData, listLimit: Int, generatedAt: String, format: PageFormat) {
        let all = data.nearDuplicates
        self.format = format
        self.generatedAt = generatedAt
        available = all.available
        threshold = String(all.threshold)
        images = Format.count(all.totals.images)
        videos = Format.count(all.totals.videos)
        unavailable = Format.count(all.totals.unavailable)
        pending = Format.count(all.totals.pending)
        groupCount = Format.count(all.groupCount)
        assetsInGroups = Format.count(all.assetCount)
        reviewedGroups = Format.count(all.reviewedGroups)
        unreviewedGroups = Format.count(all.groupCount - all.reviewedGroups)
        groups = all.top.prefix(listLimit).map { group in
            Group(
                anchor: group.anchor.description,
                user: group.userName.isEmpty ? "user \(group.userID)" : group.userName,
                kind: group.kind.rawValue, count: Format.count(group.members.count),
                members: group.members.enumerated().map { index, member in
                    Member(
                        assetID: member.assetID.description, filename: member.originalFilename ?? "",
                        distance: String(member.nearest),
                        thumbnail: format.html ? member.thumbnail ?? "" : "",
                        hasThumbnail: format.html && member.thumbnail != nil,
                        isLast: index == group.members.count - 1)
                },
                review: Self.describe(group))
        }
        hasGroups = !groups.isEmpty
        hasOmittedGroups = all.groupCount > listLimit
        groupsOmitted = Format.count(max(all.groupCount - listLimit, 0))
    }

    /// `keep asset 12 (alice, 2026-11-19 10:00): note`, `ignore (...)`, or why there is none.
    static func describe(_ group: NearDuplicateSummary.Group) -> String {
        guard let review = group.review else {
            if let stale = group.staleReview {
                let members = stale.memberIDs.map(\.description).joined(separator: ", ")
                return "not reviewed (out of date: \(stale.decision) was decided for assets \(members))"
            }
            return "not reviewed"
        }
        return DuplicatesPage.describe(
            decision: review.decision, keep: review.keepAssetID?.description, by: review.reviewedBy,
            at: review.reviewedAt, note: review.note)
    }
}

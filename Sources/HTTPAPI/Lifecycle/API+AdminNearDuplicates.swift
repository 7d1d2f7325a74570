import AssetDedupCore
import PerceptualHash
import StoreProtocols

/// The admin page's near-duplicate groups: every user's, cut as the report cuts them (per user,
/// at the default threshold), by anchor id, each with its members' facts and the group's latest
/// review (`current: false` when it was taken on other members: the group changed since).
extension API {
    /// `GET /admin/near-duplicates?limit&after&unreviewed`: `unreviewed=true` leaves out groups
    /// with a current review.
    func listNearDuplicates(_ request: HTTPRequest) throws -> HTTPResponse {
        let (limit, after) = try page(request)
        let unreviewed: Bool
        switch request.query["unreviewed"] {
        case nil, "", "false": unreviewed = false
        case "true": unreviewed = true
        default: throw APIError.badRequest("invalid_unreviewed", "unreviewed must be true or false")
        }
        let (groups, reviews) = try store.readSnapshot {
            () throws -> ([(String, [FingerprintedAsset])], [AssetID: NearDuplicateReview]) in
            var byUser: [UserID: [FingerprintedAsset]] = [:]
            try store.forEachFingerprintedAsset(user: nil) { byUser[$0.userID, default: []].append($0) }
            let reviews = try store.latestNearDuplicateReviews()
            var groups: [(String, [FingerprintedAsset])] = []
            for (_, assets) in byUser {
                let byID = Dictionary(uniqueKeysWithValues: assets.map { ($0.assetID.rawValue, $0) })
                let cut = NearDuplicateGrouping.groups(
                    assets.map { .init(id: $0.assetID.rawValue, fingerprint: $0.fingerprint) })
                for group in cut where after.map({ group.anchor > $0.rawValue }) ?? true {
                    let members = group.ids.compactMap { byID[$0] }
                    if unreviewed, let review = reviews[AssetID(group.anchor)],
                        review.memberIDs.map(\.rawValue) == group.ids
                    {
                        continue
                    }
                    groups.append((members[0].userName, members))
                }
            }
            groups.sort { $0.1[0].assetID.rawValue < $1.1[0].assetID.rawValue }
            return (Array(groups.prefix(limit + 1)), reviews)
        }
        let page = Array(groups.prefix(limit))
        let json: [JSONValue] = try page.map { userName, members in
            let anchor = members[0].assetID
            let review = reviews[anchor]
            return .object([
                ("anchor_asset_id", .int(anchor.rawValue)), ("user_name", .string(userName)),
                ("kind", .string(members[0].fingerprint.kind.rawValue)),
                (
                    "assets",
                    .array(
                        try members.map { member in
                            let asset = try store.anyUsersAsset(id: member.assetID)
                            return .object([
                                ("asset_id", .int(member.assetID.rawValue)),
                                ("original_filename", .string(member.originalFilename)), ("size", .int(member.size)),
                                ("media_type", .string(asset.map { MediaType(mimeType: $0.mimeType).rawValue })),
                                ("created_at", .string(asset?.createdAt)),
                            ])
                        })
                ),
                (
                    "review",
                    review.map { review in
                        .object([
                            ("decision", .string(review.decision)),
                            ("keep_asset_id", .int(review.keepAssetID?.rawValue)),
                            ("note", .string(review.note)), ("reviewed_by", .string(review.reviewedBy)),
                            ("reviewed_at", .string(review.reviewedAt)),
                            ("current", .bool(review.memberIDs == members.map(\.assetID))),
                        ])
                    } ?? .null
                ),
            ])
        }
        return .json(
            JSONObject(
                .object([
                    ("groups", .array(json)),
                    ("next_after", .int(groups.count > limit ? page.last?.1[0].assetID.rawValue : nil)),
                ])))
    }
}

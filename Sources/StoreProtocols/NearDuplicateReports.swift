import AssetDedupCore

/// One fingerprinted asset as the near-duplicates report and `review-similar` read it.
public struct FingerprintedAsset: Sendable, Equatable {
    public let assetID: AssetID
    public let userID: UserID
    public let userName: String
    public let originalFilename: String?
    public let sha256: String
    public let size: Int64
    public let fingerprint: MediaFingerprint

    public init(
        assetID: AssetID, userID: UserID, userName: String, originalFilename: String?, sha256: String, size: Int64,
        fingerprint: MediaFingerprint
    ) {
        self.assetID = assetID
        self.userID = userID
        self.userName = userName
        self.originalFilename = originalFilename
        self.sha256 = sha256
        self.size = size
        self.fingerprint = fingerprint
    }
}

/// An admin's decision on a near-duplicate group: `keep` one asset (the others are the copies
/// to drop), or `ignore` (they only look alike: a burst of photos). Groups are keyed by their
/// lowest asset id, the anchor; the members are kept because a group changes as assets come and
/// go, and a decision taken on other members is shown as out of date rather than applied.
public struct NearDuplicateReview: Sendable, Equatable {
    public let anchorAssetID: AssetID
    public let memberIDs: [AssetID]
    public let decision: String
    public let keepAssetID: AssetID?
    public let note: String?
    public let reviewedBy: String
    public let reviewedAt: String

    public init(
        anchorAssetID: AssetID, memberIDs: [AssetID], decision: String, keepAssetID: AssetID?, note: String?,
        reviewedBy: String, reviewedAt: String
    ) {
        self.anchorAssetID = anchorAssetID
        self.memberIDs = memberIDs
        self.decision = decision
        self.keepAssetID = keepAssetID
        self.note = note
        self.reviewedBy = reviewedBy
        self.reviewedAt = reviewedAt
    }

    /// The two decisions `review-similar` records.
    public static let decisions = ["keep", "ignore"]
}

/// How far fingerprinting has got: assets by outcome, and those not fingerprinted yet.
public struct FingerprintTotals: Sendable, Equatable {
    public var images: Int64
    public var videos: Int64
    /// Fingerprinting ran and found nothing to hash (not an image or video, or undecodable).
    public var unavailable: Int64
    /// Assets with content and no fingerprint row (`fingerprints backfill` has not reached them).
    public var pending: Int64

    public init(images: Int64, videos: Int64, unavailable: Int64, pending: Int64) {
        self.images = images
        self.videos = videos
        self.unavailable = unavailable
        self.pending = pending
    }
}

/// Near-duplicate groups' inputs and the admins' decisions on them, read-only (reports).
public protocol NearDuplicateReads: StoreSnapshots {
    /// Whether this schema has fingerprints and their reviews (migration 13 and later).
    func hasNearDuplicateTables() throws -> Bool
    /// Every fingerprinted live asset (images and videos, not 'none'; not in the trash), by user
    /// then asset id; only `user`'s when given.
    func forEachFingerprintedAsset(user: UserID?, _ body: (FingerprintedAsset) throws -> Void) throws
    func fingerprintTotals() throws -> FingerprintTotals
    /// The owner of an asset, or nil when there is no such asset.
    func owner(of asset: AssetID) throws -> UserID?
    /// The newest review per anchor.
    func latestNearDuplicateReviews() throws -> [AssetID: NearDuplicateReview]
}

/// The reads plus recording a decision (`review-similar`, the admin API).
public protocol NearDuplicateReviews: NearDuplicateReads {
    /// Records a decision on the group `members` (ascending; the first is the anchor), all of
    /// `user`'s; `keepAssetID` must be one of them.
    @discardableResult
    func recordNearDuplicateReview(
        user: UserID, members: [AssetID], decision: String, keepAssetID: AssetID?, note: String?, reviewedBy: String
    ) throws -> NearDuplicateReview
}

/// Why no near-duplicate group could be reviewed for an asset.
public enum NearDuplicateGroupError: Error, Equatable, CustomStringConvertible {
    case unknownAsset(AssetID)
    case noFingerprint(AssetID)
    case noGroup(AssetID)
    case notAMember(keep: AssetID, group: [AssetID])

    public var description: String {
        switch self {
        case .unknownAsset(let id): "no asset with id \(id)"
        case .noFingerprint(let id):
            "asset \(id) has no perceptual fingerprint (not an image or video, undecodable, or not fingerprinted yet: 'assetdedup fingerprints backfill')"
        case .noGroup(let id):
            "asset \(id) has no near-duplicates among its owner's assets; there is no group to review"
        case .notAMember(let keep, let group):
            "asset \(keep) is not in this group (its members: \(group.map(\.description).joined(separator: ", ")))"
        }
    }
}

extension NearDuplicateReads {
    /// The near-duplicate group holding `asset`, worked out as the report does (its owner's
    /// fingerprints, grouped at the default threshold), and its owner.
    public func nearDuplicateGroup(of asset: AssetID) throws -> (user: UserID, members: [AssetID]) {
        guard let user = try owner(of: asset) else { throw NearDuplicateGroupError.unknownAsset(asset) }
        var members: [NearDuplicateGrouping.Member] = []
        try forEachFingerprintedAsset(user: user) {
            members.append(.init(id: $0.assetID.rawValue, fingerprint: $0.fingerprint))
        }
        guard members.contains(where: { $0.id == asset.rawValue }) else {
            throw NearDuplicateGroupError.noFingerprint(asset)
        }
        guard let group = NearDuplicateGrouping.groups(members).first(where: { $0.ids.contains(asset.rawValue) }) else {
            throw NearDuplicateGroupError.noGroup(asset)
        }
        return (user, group.ids.map(AssetID.init))
    }

    /// The user's near-duplicate groups (live assets), as the report cuts them, by anchor.
    public func nearDuplicateGroups(user: UserID) throws -> [[AssetID]] {
        var members: [NearDuplicateGrouping.Member] = []
        try forEachFingerprintedAsset(user: user) {
            members.append(.init(id: $0.assetID.rawValue, fingerprint: $0.fingerprint))
        }
        return NearDuplicateGrouping.groups(members).map { $0.ids.map(AssetID.init) }
    }

}

extension NearDuplicateReviews {
    /// Records a decision on the group holding `asset` (what `review-similar` and the admin API do).
    @discardableResult
    public func reviewNearDuplicates(
        of asset: AssetID, decision: String, keepAssetID: AssetID?, note: String?, reviewedBy: String
    ) throws -> NearDuplicateReview {
        let (user, members) = try nearDuplicateGroup(of: asset)
        if let keepAssetID, !members.contains(keepAssetID) {
            throw NearDuplicateGroupError.notAMember(keep: keepAssetID, group: members)
        }
        return try recordNearDuplicateReview(
            user: user, members: members, decision: decision, keepAssetID: keepAssetID, note: note,
            reviewedBy: reviewedBy)
    }
}

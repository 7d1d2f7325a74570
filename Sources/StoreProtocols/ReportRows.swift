import AssetDedupCore

/// Whole-store counts: the headline numbers of the index page and the history trend.
public struct StoreTotals: Equatable, Sendable, Codable {
    public var users: Int64
    public var assets: Int64
    public var bytes: Int64
    /// Assets still without a hash (legacy rows waiting for `backfill`).
    public var unhashedAssets: Int64
    public var unhashedBytes: Int64
    /// Distinct hashes, and their bytes counted once each.
    public var uniqueContents: Int64
    public var uniqueBytes: Int64
    public var providerUploads: Int64
    /// Legacy same-user rows folded into an older row (`asset_merges`).
    public var mergedRows: Int64

    public init(
        users: Int64, assets: Int64, bytes: Int64, unhashedAssets: Int64, unhashedBytes: Int64,
        uniqueContents: Int64, uniqueBytes: Int64, providerUploads: Int64, mergedRows: Int64
    ) {
        self.users = users
        self.assets = assets
        self.bytes = bytes
        self.unhashedAssets = unhashedAssets
        self.unhashedBytes = unhashedBytes
        self.uniqueContents = uniqueContents
        self.uniqueBytes = uniqueBytes
        self.providerUploads = providerUploads
        self.mergedRows = mergedRows
    }

    /// Bytes one shared blob per hash saves over one copy per asset (hashed assets only).
    public var bytesSavedByDedup: Int64 { bytes - unhashedBytes - uniqueBytes }
}

/// One asset in a group of identical content held by several users.
public struct DuplicateMember: Equatable, Sendable {
    public var sha256: String
    public var assetID: Int64
    public var userID: Int64
    public var userName: String
    public var size: Int64
    public var originalFilename: String?
    public var createdAt: String
    /// The latest admin decision on this member's group, if any.
    public var review: DuplicateReview?

    public init(sha256: String, assetID: Int64, userID: Int64, userName: String, size: Int64, originalFilename: String? = nil, createdAt: String, review: DuplicateReview? = nil) {
        self.sha256 = sha256
        self.assetID = assetID
        self.userID = userID
        self.userName = userName
        self.size = size
        self.originalFilename = originalFilename
        self.createdAt = createdAt
        self.review = review
    }
}

/// The latest admin decision on one duplicate group.
public struct DuplicateReview: Equatable, Sendable {
    public var groupSHA256: String
    /// `keep`, `ignore` or `merged`.
    public var decision: String
    public var keepAssetID: Int64?
    public var note: String?
    public var reviewedBy: String
    public var reviewedAt: String

    public init(groupSHA256: String, decision: String, keepAssetID: Int64? = nil, note: String? = nil, reviewedBy: String, reviewedAt: String) {
        self.groupSHA256 = groupSHA256
        self.decision = decision
        self.keepAssetID = keepAssetID
        self.note = note
        self.reviewedBy = reviewedBy
        self.reviewedAt = reviewedAt
    }
}

/// One legacy row that was folded into an older row of the same user and content.
public struct MergeRecord: Equatable, Sendable {
    public var userID: Int64
    public var userName: String?
    public var sha256: String
    public var keptAssetID: Int64
    public var mergedAssetID: Int64
    public var mergedOriginalFilename: String?
    /// `migration` or `backfill`.
    public var source: String
    public var mergedAt: String

    public init(userID: Int64, userName: String? = nil, sha256: String, keptAssetID: Int64, mergedAssetID: Int64, mergedOriginalFilename: String? = nil, source: String, mergedAt: String) {
        self.userID = userID
        self.userName = userName
        self.sha256 = sha256
        self.keptAssetID = keptAssetID
        self.mergedAssetID = mergedAssetID
        self.mergedOriginalFilename = mergedOriginalFilename
        self.source = source
        self.mergedAt = mergedAt
    }
}

/// Assets of one user whose provider set is `combination` (`a+b`, `""` for none).
public struct UserCombination: Equatable, Sendable {
    public var userID: Int64
    public var userName: String
    public var combination: String
    public var assets: Int64
    public var bytes: Int64
    public var hashedAssets: Int64

    public init(userID: Int64, userName: String, combination: String, assets: Int64, bytes: Int64, hashedAssets: Int64) {
        self.userID = userID
        self.userName = userName
        self.combination = combination
        self.assets = assets
        self.bytes = bytes
        self.hashedAssets = hashedAssets
    }
}

/// An asset held by fewer providers than the configured minimum.
public struct UnderCoveredAsset: Equatable, Sendable {
    public var assetID: Int64
    public var userName: String
    public var originalFilename: String?
    public var size: Int64
    public var providers: Int64

    public init(assetID: Int64, userName: String, originalFilename: String? = nil, size: Int64, providers: Int64) {
        self.assetID = assetID
        self.userName = userName
        self.originalFilename = originalFilename
        self.size = size
        self.providers = providers
    }
}

/// What the schema says about the indexes on `assets`, for the migrations page checks.
public struct AssetIndexFacts: Equatable, Sendable {
    /// The per-user index as it should be: present, unique, partial, on (user_id, sha256).
    public var perUserIndexExists: Bool
    public var perUserIndexUnique: Bool
    public var perUserIndexPartial: Bool
    public var perUserIndexColumns: [String]
    /// Unique indexes (or `UNIQUE` column constraints) on `assets(sha256)` alone: a global unique.
    public var globalUniqueOnSHA256: [String]

    public init(perUserIndexExists: Bool, perUserIndexUnique: Bool, perUserIndexPartial: Bool, perUserIndexColumns: [String], globalUniqueOnSHA256: [String]) {
        self.perUserIndexExists = perUserIndexExists
        self.perUserIndexUnique = perUserIndexUnique
        self.perUserIndexPartial = perUserIndexPartial
        self.perUserIndexColumns = perUserIndexColumns
        self.globalUniqueOnSHA256 = globalUniqueOnSHA256
    }
}

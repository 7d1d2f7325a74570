/// One user's record of one piece of content, and where it has been uploaded.
public struct Asset: Equatable, Sendable {
    public var id: AssetID
    public var userID: UserID
    /// Nil only for legacy rows that were never hashed (see `assetdedup backfill`).
    public var sha256: SHA256Digest?
    public var size: Int64
    public var mimeType: String?
    public var originalFilename: String?
    /// The provider the asset was first uploaded for.
    public var providerID: ProviderID?
    public var createdAt: String
    public var lastAccessedAt: String?
    /// Provider id -> the provider's own id for this asset.
    public var uploads: [ProviderID: String]
    /// When the user moved it to the trash; nil while it is live.
    public var trashedAt: String?

    public init(
        id: AssetID, userID: UserID, sha256: SHA256Digest?, size: Int64, mimeType: String? = nil,
        originalFilename: String? = nil, providerID: ProviderID? = nil, createdAt: String,
        lastAccessedAt: String? = nil, uploads: [ProviderID: String] = [:], trashedAt: String? = nil
    ) {
        self.id = id
        self.userID = userID
        self.sha256 = sha256
        self.size = size
        self.mimeType = mimeType
        self.originalFilename = originalFilename
        self.providerID = providerID
        self.createdAt = createdAt
        self.lastAccessedAt = lastAccessedAt
        self.uploads = uploads
        self.trashedAt = trashedAt
    }

    /// Providers holding the asset, sorted so that output is stable.
    public var uploadedProviders: [ProviderID] { uploads.keys.sorted() }

    public var presence: AssetPresence {
        AssetPresence(id: id, providerID: providerID, uploadedProviders: uploadedProviders)
    }
}

/// What check-by-hash tells about the caller's asset: its id, the provider it was first
/// uploaded for and the providers holding it (sorted). Read by a lighter query than `Asset`.
public struct AssetPresence: Equatable, Sendable {
    public var id: AssetID
    public var providerID: ProviderID?
    public var uploadedProviders: [ProviderID]

    public init(id: AssetID, providerID: ProviderID?, uploadedProviders: [ProviderID]) {
        self.id = id
        self.providerID = providerID
        self.uploadedProviders = uploadedProviders
    }
}

/// One row of `provider_uploads`: the asset is on that provider under that id.
public struct ProviderUpload: Equatable, Sendable {
    public var assetID: AssetID
    public var providerID: ProviderID
    public var providerAssetID: String
    public var uploadedAt: String

    public init(assetID: AssetID, providerID: ProviderID, providerAssetID: String, uploadedAt: String) {
        self.assetID = assetID
        self.providerID = providerID
        self.providerAssetID = providerAssetID
        self.uploadedAt = uploadedAt
    }
}

import AssetDedupCore

/// What the store needs to create an asset row.
public struct NewAsset: Sendable {
    public var userID: UserID
    public var sha256: SHA256Digest?
    public var size: Int64
    public var mimeType: String?
    public var originalFilename: String?
    public var providerID: ProviderID?
    /// Legacy rows only: where the file lived before the content-addressed blob store.
    public var storagePath: String?
    public var createdAt: String?

    public init(
        userID: UserID, sha256: SHA256Digest?, size: Int64, mimeType: String? = nil, originalFilename: String? = nil,
        providerID: ProviderID? = nil, storagePath: String? = nil, createdAt: String? = nil
    ) {
        self.userID = userID
        self.sha256 = sha256
        self.size = size
        self.mimeType = mimeType
        self.originalFilename = originalFilename
        self.providerID = providerID
        self.storagePath = storagePath
        self.createdAt = createdAt
    }
}

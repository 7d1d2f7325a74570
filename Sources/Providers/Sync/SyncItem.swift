import AssetDedupCore

/// One asset to push: which row to record against, and the blob to send.
public struct SyncItem: Sendable, Equatable {
    public let assetID: AssetID
    public let userID: UserID
    public let blob: BlobReference

    public init(assetID: AssetID, userID: UserID, blob: BlobReference) {
        self.assetID = assetID
        self.userID = userID
        self.blob = blob
    }
}

/// What happened to one item.
public enum SyncOutcome: Sendable, Equatable {
    /// Sent; the provider's id for it.
    case uploaded(providerAssetID: String)
    /// The provider already held it (it said so when asked); recorded without sending.
    case alreadyThere(providerAssetID: String)
    /// Not sent, or sent and refused; nothing recorded.
    case failed(reason: String, retryable: Bool)
}

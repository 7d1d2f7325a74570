import AssetDedupCore

/// One asset to push: which row to record against, and the blob to send.
public struct SyncItem: Sendable, Equatable {
    public let assetID: AssetID
    public let userID: UserID
    public var blob: BlobReference

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
    /// Not sent: another sender (serve's delivery worker) holds its lease; the queue retries it
    /// if that one fails.
    case inProgressElsewhere(by: String)
}

/// What the caller's lease on an item says, just before it would be sent.
public enum SyncClaim: Sendable, Equatable {
    /// Leased for this run: send it, with the delivery's idempotency key when there is one.
    case send(idempotencyKey: String? = nil)
    /// Someone else recorded it since its page was read: do not send.
    case recordedMeanwhile(providerAssetID: String)
    /// Someone else is sending it right now: skip it this run.
    case claimedElsewhere(by: String)
}

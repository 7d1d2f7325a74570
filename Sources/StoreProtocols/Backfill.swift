import AssetDedupCore

/// A legacy asset row still waiting for its hash.
public struct BackfillRow: Equatable, Sendable {
    public let assetID: AssetID
    public let userID: UserID
    public let storagePath: String?
    public let size: Int64

    public init(assetID: AssetID, userID: UserID, storagePath: String? = nil, size: Int64) {
        self.assetID = assetID
        self.userID = userID
        self.storagePath = storagePath
        self.size = size
    }
}

/// What recording a computed hash did to the rows.
public enum BackfillOutcome: Equatable, Sendable {
    /// The row got its hash.
    case hashed(AssetID)
    /// The user already had this content: the newer row was merged into the older one.
    case merged(kept: AssetID, removed: AssetID)
    /// Someone else hashed the row meanwhile; nothing to do.
    case alreadyHashed(AssetID)
}

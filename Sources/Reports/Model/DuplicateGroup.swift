import StoreProtocols

/// Identical content held by several users: one blob could serve them all.
struct DuplicateGroup: Equatable, Sendable {
    var sha256: String
    var size: Int64
    /// Names of the holders, in user id order (one asset per user: the per-user index).
    var userNames: [String]
    var assetIDs: [Int64]
    /// The latest admin decision on the group, if any.
    var review: DuplicateReview?

    /// Bytes saved by keeping one shared blob instead of one copy per holder.
    var bytesSaved: Int64 { size * Int64(max(assetIDs.count - 1, 0)) }
}

/// What an upload of known content to a provider must do.
///
/// This is the heart of the product's promise: never upload the same content twice to one
/// provider, never create a second asset row for the same user.
public enum DedupDecision: Equatable, Sendable {
    /// The caller already has this content on that provider: upload nothing.
    case reuse(AssetID)
    /// The caller has this content, but not on that provider: upload once, keep the asset.
    case addProvider(AssetID)
    /// The caller has never had this content: store it, create the asset, upload it.
    case create

    /// Decides from the caller's own asset with the same hash (or none) and the target provider.
    ///
    /// `existing` must already be scoped to the caller: another user's asset is never passed in.
    public static func decide(existing: Asset?, provider: ProviderID) -> DedupDecision {
        guard let existing else { return .create }
        return existing.uploads[provider] != nil ? .reuse(existing.id) : .addProvider(existing.id)
    }
}

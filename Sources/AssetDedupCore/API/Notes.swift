/// The human notes of the seed system's API, kept word for word: its clients show them.
public enum Notes {
    public static let notFound = "No asset found with this hash"
    public static let exists = "Asset exists"
    public static func alreadyUploaded(to provider: ProviderID) -> String { "Asset already uploaded to \(provider)" }
    public static func notUploaded(to provider: ProviderID) -> String { "Asset exists but not uploaded to \(provider)" }
    public static func reused(alreadyOn provider: ProviderID) -> String {
        "Reused existing asset (deduplicated by sha256, already on \(provider))"
    }
    public static func reused(uploadedTo provider: ProviderID) -> String {
        "Reused existing asset (deduplicated by sha256, uploaded to \(provider))"
    }
    public static func created(uploadedTo provider: ProviderID) -> String { "New asset uploaded to \(provider)" }
    /// Ours (the seed system always waited): the delivery runs in the background.
    public static func queued(for provider: ProviderID) -> String { "Queued for delivery to \(provider)" }
}

import AssetDedupCore

/// Domain-level failures of the store, mapped from SQLite results where they have a meaning.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case userExists(String)
    case unknownUser(String)
    case unknownToken(Int64)
    /// The per-user unique index refused a second row for the same content.
    case duplicateAsset(user: UserID, sha256: SHA256Digest)
    /// No asset (or recorded merge) holds this hash, so there is no group to review.
    case unknownGroup(String)
    case unknownAsset(Int64)
    /// The asset exists but holds other content than the group under review.
    case assetNotInGroup(asset: Int64, group: String)

    public var description: String {
        switch self {
        case .userExists(let name): "user '\(name)' already exists"
        case .unknownUser(let name): "no user named '\(name)'"
        case .unknownToken(let id): "no token with id \(id)"
        case .duplicateAsset(let user, let sha256): "user \(user) already has an asset with sha256 \(sha256)"
        case .unknownGroup(let sha256): "no asset holds sha256 \(sha256), so there is no group to review"
        case .unknownAsset(let id): "no asset with id \(id)"
        case .assetNotInGroup(let asset, let group): "asset \(asset) is not in group \(group) (it holds other content)"
        }
    }
}

import AssetDedupCore

/// One of the user's assets that looks like the query: its distance under the kind's match rule.
public struct SimilarAsset: Equatable, Sendable {
    public let assetID: AssetID
    public let distance: Int
    public let originalFilename: String?

    public init(assetID: AssetID, distance: Int, originalFilename: String?) {
        self.assetID = assetID
        self.distance = distance
        self.originalFilename = originalFilename
    }
}

/// An asset with content but no fingerprint row yet (`fingerprints backfill`).
public struct UnfingerprintedAsset: Equatable, Sendable {
    public let assetID: AssetID
    public let sha256: SHA256Digest

    public init(assetID: AssetID, sha256: SHA256Digest) {
        self.assetID = assetID
        self.sha256 = sha256
    }
}

/// Perceptual fingerprints per asset and the near-duplicate search over one user's assets
/// (uploads, `GET /assets/{id}`, `POST /assets/similar`, `fingerprints backfill`).
public protocol MediaFingerprints: AnyObject {
    /// Replaces the asset's fingerprint row (and hashes) with `outcome`; false when the asset is gone.
    @discardableResult func saveFingerprint(_ outcome: FingerprintOutcome, asset: AssetID) throws -> Bool
    /// The stored outcome, or nil when none was computed yet.
    func fingerprint(asset: AssetID) throws -> FingerprintOutcome?
    /// The user's assets matching `fingerprint` within `threshold` (same kind only), nearest
    /// first then by id, at most `limit`. Reads only that user's rows, so its cost and answer
    /// never depend on another user's assets.
    func similarAssets(
        user: UserID, to fingerprint: MediaFingerprint, threshold: Int, limit: Int, excluding asset: AssetID?
    ) throws -> [SimilarAsset]
    /// Assets with a hash and no fingerprint row, in id order after `after` (a resumable cursor).
    func unfingerprintedAssets(after: AssetID?, limit: Int) throws -> [UnfingerprintedAsset]
    func unfingerprintedAssetCount() throws -> Int
}

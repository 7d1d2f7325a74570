import AssetDedupCore
import Foundation

/// What an upload learns when it claims a blob it is about to trust (`claimBlobForUpload`).
public enum BlobClaim: Equatable, Sendable {
    /// No gc can take this blob now: commit it, or reuse it when it exists.
    case free
    /// gc took the blob and is deleting it right now: write nothing, answer 503, retry shortly.
    case beingCollected

    /// A 'deleting' row older than this belongs to a gc that died: a blob's delete (unlink, S3
    /// DeleteObject) is atomic, so whatever exists then is whole and may be trusted again.
    public static let staleDeletingSeconds = 3600.0
}

/// One gc mark: a blob no asset referenced when `assetdedup gc` saw it.
public struct BlobMark: Equatable, Sendable {
    public enum State: String, Sendable {
        /// Waiting out the grace period; any upload's claim removes it.
        case marked
        /// Taken by gc, which is deleting the blob (or died doing so).
        case deleting
    }

    public var sha256: SHA256Digest
    public var size: Int64
    public var markedAt: String
    public var state: State
    public var stateAt: String

    public init(sha256: SHA256Digest, size: Int64, markedAt: String, state: State, stateAt: String) {
        self.sha256 = sha256
        self.size = size
        self.markedAt = markedAt
        self.state = state
        self.stateAt = stateAt
    }
}

/// Orphan marks awaiting collection, for the reports.
public struct OrphanSummary: Equatable, Sendable {
    public var count: Int
    public var bytes: Int64
    /// The newest mark's time (stored text), nil when there are none.
    public var lastMarkedAt: String?

    public init(count: Int, bytes: Int64, lastMarkedAt: String?) {
        self.count = count
        self.bytes = bytes
        self.lastMarkedAt = lastMarkedAt
    }
}

/// Mark-and-sweep of blobs no asset references (`assetdedup gc`), and the claim every upload
/// makes before it trusts a blob. The two meet on one row per blob, so "gc deletes a blob an
/// upload just reused" cannot happen: an upload's claim removes a mark before gc can take it,
/// and a blob gc has taken answers `.beingCollected` to the upload instead.
public protocol BlobCollection: AnyObject {
    /// Whether an asset of any user, or a resumable upload's row (a completion whose answer may
    /// still be retried), names this content (a read: gc checks before it writes).
    func isBlobReferenced(sha256: SHA256Digest) throws -> Bool
    /// Marks the blob as an orphan ('marked', now) unless it is referenced (`isBlobReferenced`)
    /// or marked already. True when a mark was written.
    @discardableResult func markOrphan(sha256: SHA256Digest, size: Int64, now: Date) throws -> Bool
    /// Marks gc may act on: 'marked' ones marked at or before `markedBefore`, and every
    /// 'deleting' one (left by a gc that died mid-way).
    func collectableMarks(markedBefore: Date) throws -> [BlobMark]
    /// In one transaction: takes the mark for deletion ('deleting', now) when it is 'marked' at
    /// or before `markedBefore` (or already 'deleting', left by a dead gc) and nothing
    /// references the blob (`isBlobReferenced`). A mark referenced now is dropped. True when taken: the
    /// caller deletes the blob, then `finishDeletion`.
    func takeForDeletion(sha256: SHA256Digest, markedBefore: Date, now: Date) throws -> Bool
    /// Drops the mark once its blob is gone.
    func finishDeletion(sha256: SHA256Digest) throws
    /// What every upload calls before it commits or trusts a blob: drops a 'marked' row (gc can
    /// no longer take it); a 'deleting' row means gc is deleting the blob now (`.beingCollected`),
    /// unless it is older than `staleDeletingSeconds` (a gc that died: the row goes, `.free`).
    func claimBlobForUpload(sha256: SHA256Digest, now: Date, staleDeletingSeconds: Double) throws -> BlobClaim
    /// How many marks wait, their bytes, and the newest mark's time.
    func orphanSummary() throws -> OrphanSummary
}

extension BlobCollection {
    public func claimBlobForUpload(sha256: SHA256Digest, now: Date = Date()) throws -> BlobClaim {
        try claimBlobForUpload(sha256: sha256, now: now, staleDeletingSeconds: BlobClaim.staleDeletingSeconds)
    }
}

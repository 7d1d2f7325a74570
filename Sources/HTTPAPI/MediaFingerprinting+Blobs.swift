import AssetDedupCore
import BlobProtocols
import Foundation
import PerceptualHash

extension MediaFingerprinting {
    /// The fingerprint of a stored blob. Reads `stagedPath` while this node's staged copy of the
    /// upload still exists (a bucket's commit leaves it; a folder's moved it into the blob, which
    /// is local anyway), else the blob itself: no download of what was just uploaded.
    public func fingerprint(
        blob sha256: SHA256Digest, in blobs: any BlobStorage, stagedPath: String? = nil
    ) throws -> FingerprintOutcome {
        if let stagedPath, access(stagedPath, R_OK) == 0 { return fingerprint(fileAt: stagedPath) }
        return try blobs.withLocalFile(sha256) { fingerprint(fileAt: $0) }
    }
}

import AssetDedupCore

/// The bytes to push to a provider: a finished, content-addressed blob on local disk.
public struct BlobReference: Sendable, Equatable {
    public let path: String
    public let sha256: SHA256Digest
    public let size: Int64
    /// The client's file name, for providers that want one (sanitised by the adapter).
    public let filename: String?
    public let mimeType: String?
    /// The delivery's fixed key, sent as `Idempotency-Key` by adapters that speak HTTP, so a
    /// provider that honours it keeps one copy when a crash makes us send again.
    public var idempotencyKey: String?

    public init(
        path: String, sha256: SHA256Digest, size: Int64, filename: String? = nil, mimeType: String? = nil,
        idempotencyKey: String? = nil
    ) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.filename = filename
        self.mimeType = mimeType
        self.idempotencyKey = idempotencyKey
    }
}

import AssetDedupCore
import BlobProtocols

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes to push to a provider: a finished, content-addressed blob.
public struct BlobReference: Sendable, Equatable {
    /// A local file with the bytes: the blob itself in a folder store; empty for a bucket's
    /// blob until `BlobFiles.withLocalFile` downloads it for the call.
    public var path: String
    public let sha256: SHA256Digest
    public let size: Int64
    /// The client's file name, for providers that want one (sanitised by the adapter).
    public let filename: String?
    public let mimeType: String?
    /// The delivery's fixed key, sent as `Idempotency-Key` by adapters that speak HTTP, so a
    /// provider that honours it keeps one copy when a crash makes us send again.
    public var idempotencyKey: String?
    /// The blob as an object in a bucket, so an `s3` provider on the same endpoint copies it
    /// server-side instead of moving the bytes through this node.
    public var object: BlobObject?

    public init(
        path: String, sha256: SHA256Digest, size: Int64, filename: String? = nil, mimeType: String? = nil,
        idempotencyKey: String? = nil, object: BlobObject? = nil
    ) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.filename = filename
        self.mimeType = mimeType
        self.idempotencyKey = idempotencyKey
        self.object = object
    }
}

/// Gives an adapter the blob's bytes as a local file, for the length of one call.
public protocol BlobFiles: Sendable {
    /// Runs `body` with `blob` whose `path` is a readable local file. Throws `ProviderError`.
    func withLocalFile(_ blob: BlobReference, _ body: (BlobReference) throws -> String) throws -> String
}

/// Blobs whose `path` is their file already (a folder store, tests).
public struct BlobPaths: BlobFiles {
    public init() {}

    public func withLocalFile(_ blob: BlobReference, _ body: (BlobReference) throws -> String) throws -> String {
        guard access(blob.path, R_OK) == 0 else { throw FileError("read", path: blob.path) }
        return try body(blob)
    }
}

/// Blobs read through a `BlobReader`: the folder's own file, or a bucket's object downloaded
/// to a temp file that is removed after the call.
public struct StoredBlobFiles: BlobFiles {
    public let blobs: any BlobReader

    public init(blobs: any BlobReader) { self.blobs = blobs }

    public func withLocalFile(_ blob: BlobReference, _ body: (BlobReference) throws -> String) throws -> String {
        try blobs.withLocalFile(blob.sha256) { path in
            var local = blob
            local.path = path
            return try body(local)
        }
    }
}

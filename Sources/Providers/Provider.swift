import AssetDedupCore

/// The bytes to push to a provider: a finished, content-addressed blob on local disk.
public struct BlobReference: Sendable, Equatable {
    public let path: String
    public let sha256: SHA256Digest
    public let size: Int64
    /// The client's file name, for providers that want one (sanitised by the adapter).
    public let filename: String?
    public let mimeType: String?

    public init(path: String, sha256: SHA256Digest, size: Int64, filename: String? = nil, mimeType: String? = nil) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.filename = filename
        self.mimeType = mimeType
    }
}

/// Why a provider upload failed. Messages never contain secrets (header values, tokens).
public struct ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public let provider: ProviderID
    /// Worth trying again later (5xx, 429, timeouts, connection errors).
    public let retryable: Bool
    public let message: String

    public init(provider: ProviderID, retryable: Bool, message: String) {
        self.provider = provider
        self.retryable = retryable
        self.message = message
    }

    public var description: String { "provider \(provider): \(message)" }
}

/// Whether a provider looks usable right now, for `GET /api/v1/providers`.
public enum ProviderHealth: String, Sendable, Equatable {
    case ok
    case unavailable
}

/// An external place that holds assets: a folder, an HTTP service, later S3.
///
/// Calls block the calling worker thread, bounded by the adapter's own timeouts, so a provider
/// that hangs cannot hold a thread forever.
public protocol Provider: Sendable {
    var id: ProviderID { get }
    /// The adapter kind from the config file (`directory`, `http`, ...).
    var kind: String { get }
    /// Uploads the blob and returns the provider's own id for it. Uploading the same content
    /// twice must be harmless (callers already avoid it; adapters stay idempotent).
    /// Throws `ProviderError`.
    func upload(_ blob: BlobReference) throws -> String
    func health() -> ProviderHealth
}

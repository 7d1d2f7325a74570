import AssetDedupCore

/// An external place that holds assets: a folder, an HTTP service, later S3.
///
/// Calls block the calling worker thread, bounded by the adapter's own timeouts, so a provider
/// that hangs cannot hold a thread forever. Adapters are immutable values, safe to share
/// between threads; each call makes whatever connection or file handle it needs.
public protocol Provider: Sendable {
    var id: ProviderID { get }
    /// The adapter kind from the config file (`directory`, `http`, ...).
    var kind: String { get }
    /// Uploads the blob and returns the provider's own id for it. Uploading the same content
    /// twice must be harmless (callers already avoid it; adapters stay idempotent).
    /// Throws `ProviderError`.
    func upload(_ blob: BlobReference) throws -> String
    /// Whether `upload` reads `blob.path`; an adapter that copies server-side says false.
    func needsLocalFile(_ blob: BlobReference) -> Bool
    func health() -> ProviderHealth
    /// Whether the provider already holds this content, where the adapter can tell without
    /// uploading; lets `sync` record instead of re-sending after a crash. Throws `ProviderError`.
    func presence(of blob: BlobReference) throws -> ProviderPresence
    /// Where the provider points (a folder, a URL without query), for listings; never a secret.
    var target: String { get }
    /// Removes the provider's copy of `sha256` (recorded as `providerAssetID`) when a purged
    /// asset was its only holder and the config says `on_delete: delete`. Throws
    /// `ProviderError`; adapters that cannot delete say so at config time.
    func delete(sha256: SHA256Digest, providerAssetID: String) throws
    /// Checks the provider's copy of `sha256` (`size` bytes, recorded as `providerAssetID`):
    /// present and, where the adapter can read it (or `deep` asks), whole. Never throws: an
    /// unreachable provider is an outcome.
    func verify(sha256: SHA256Digest, size: Int64, providerAssetID: String, deep: Bool) -> ProviderCopyCheck
    /// Writes the provider's copy of `sha256` to the new file `path` (to restore a lost blob
    /// from); false when the adapter cannot read its copies back. Throws `ProviderError`.
    func fetchCopy(sha256: SHA256Digest, providerAssetID: String, to path: String) throws -> Bool
    /// Whether `delete` works for this adapter (`on_delete: delete` is refused otherwise).
    var canDelete: Bool { get }
    /// The longest one `upload` call can take. A delivery lease lasts this plus a margin, so a
    /// lease that expired belongs to a sender that died, and another may take it over.
    var maxUploadSeconds: Double { get }
}

extension Provider {
    /// Most remote services cannot be asked by content hash.
    public func presence(of blob: BlobReference) throws -> ProviderPresence { .unknown }
    public func needsLocalFile(_ blob: BlobReference) -> Bool { true }
    public var target: String { "" }
    public var canDelete: Bool { false }
    public func verify(sha256: SHA256Digest, size: Int64, providerAssetID: String, deep: Bool) -> ProviderCopyCheck {
        .unverifiable("\(kind) providers cannot be asked for their copy")
    }
    public func fetchCopy(sha256: SHA256Digest, providerAssetID: String, to path: String) throws -> Bool { false }
    public func delete(sha256: SHA256Digest, providerAssetID: String) throws {
        throw ProviderError(provider: id, retryable: false, message: "\(kind) providers cannot delete")
    }
    /// Adapters without their own time limit (a local folder) are given 15 minutes.
    public var maxUploadSeconds: Double { 900 }

    /// How long a delivery lease on this provider lasts: the longest upload plus a minute of
    /// slack, so its holder cannot still be sending when it expires. For serve's workers and sync.
    public var leaseSeconds: Double { maxUploadSeconds + 60 }
}

/// What a provider knows about one piece of content before an upload.
public enum ProviderPresence: Sendable, Equatable {
    /// Already there, under this provider asset id.
    case present(providerAssetID: String)
    case absent
    /// The adapter cannot tell; only an upload settles it.
    case unknown
}

/// What checking one provider copy found (`assetdedup verify`).
public enum ProviderCopyCheck: Equatable, Sendable {
    case ok
    case missing
    case corrupt(String)
    case unreachable(String)
    case unverifiable(String)
}

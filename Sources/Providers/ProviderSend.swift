import BlobProtocols

/// What sending one blob came to.
public enum SentBlob: Sendable, Equatable {
    case uploaded(providerAssetID: String)
    /// The provider said it held the content already; nothing was sent.
    case alreadyThere(providerAssetID: String)
}

extension Provider {
    /// The one way a blob goes to a provider, for serve's deliveries and `sync` alike: ask first
    /// where the adapter can tell, else upload, fetching a local file only when the adapter
    /// needs one (a server-side copy does not). Throws `ProviderError`.
    public func send(_ blob: BlobReference, files: any BlobFiles) throws -> SentBlob {
        if case .present(let id) = try presence(of: blob) { return .alreadyThere(providerAssetID: id) }
        if !needsLocalFile(blob) { return .uploaded(providerAssetID: try upload(blob)) }
        do {
            return .uploaded(providerAssetID: try files.withLocalFile(blob) { try upload($0) })
        } catch let error as ProviderError {
            throw error
        } catch let error as BlobStorageUnavailable {
            throw ProviderError(provider: id, retryable: true, message: "blob storage: \(error)", attempts: 0)
        } catch {
            throw ProviderError(
                provider: id, retryable: false,
                message: "blob \(blob.sha256.hex) is missing or unreadable (\(error)); run 'assetdedup backfill'?",
                attempts: 0)
        }
    }
}

/// What an upload did, for `POST /assets/upload`.
public enum UploadStatus: String, Encodable, Sendable {
    case created
    case reused
    case addedProvider = "added_provider"
}

/// The upload answer: ours, plus every field the seed system's clients read.
public struct UploadResult: Encodable, Sendable, Equatable {
    public let assetID: Int64
    public let sha256: String
    public let size: Int64
    public let status: UploadStatus
    public let providerID: String
    public let providerAssetID: String?
    public let uploadedToProviders: [String]
    public let mediaType: String
    /// The seed system had public URLs for some providers; ours have none yet (always null).
    public let externalURL: String?
    public let note: String

    enum CodingKeys: String, CodingKey {
        case sha256, size, status, note
        case assetID = "asset_id"
        case providerID = "provider_id"
        case providerAssetID = "provider_asset_id"
        case uploadedToProviders = "uploaded_to_providers"
        case mediaType = "media_type"
        case externalURL = "external_url"
    }

    public init(asset: Asset, status: UploadStatus, provider: ProviderID) {
        self.assetID = asset.id.rawValue
        self.sha256 = asset.sha256?.hex ?? ""
        self.size = asset.size
        self.status = status
        self.providerID = provider.rawValue
        self.providerAssetID = asset.uploads[provider]
        self.uploadedToProviders = asset.uploadedProviders.map(\.rawValue)
        self.mediaType = MediaType(mimeType: asset.mimeType).rawValue
        self.externalURL = nil
        switch status {
        case .created: self.note = Notes.created(uploadedTo: provider)
        case .reused: self.note = Notes.reused(alreadyOn: provider)
        case .addedProvider: self.note = Notes.reused(uploadedTo: provider)
        }
    }
}

/// The seed system's coarse media classes.
public enum MediaType: String, Sendable {
    case image, video, audio, other

    public init(mimeType: String?) {
        let major = mimeType?.split(separator: "/").first.map { $0.lowercased() }
        self = major.flatMap(MediaType.init(rawValue:)) ?? .other
    }
}

/// One asset as `GET /assets/{id}` and `GET /assets` show it.
public struct AssetView: Encodable, Sendable, Equatable {
    public let assetID: Int64
    public let sha256: String?
    public let size: Int64
    public let mimeType: String?
    public let mediaType: String
    public let originalFilename: String?
    public let providerID: String?
    public let createdAt: String
    public let uploadedToProviders: [String]
    /// Provider id -> the provider's id for the asset (the seed system's map).
    public let providers: [String: String]

    enum CodingKeys: String, CodingKey {
        case sha256, size, providers
        case assetID = "asset_id"
        case mimeType = "mime_type"
        case mediaType = "media_type"
        case originalFilename = "original_filename"
        case providerID = "provider_id"
        case createdAt = "created_at"
        case uploadedToProviders = "uploaded_to_providers"
    }

    public init(_ asset: Asset) {
        self.assetID = asset.id.rawValue
        self.sha256 = asset.sha256?.hex
        self.size = asset.size
        self.mimeType = asset.mimeType
        self.mediaType = MediaType(mimeType: asset.mimeType).rawValue
        self.originalFilename = asset.originalFilename
        self.providerID = asset.providerID?.rawValue
        self.createdAt = asset.createdAt
        self.uploadedToProviders = asset.uploadedProviders.map(\.rawValue)
        self.providers = Dictionary(uniqueKeysWithValues: asset.uploads.map { ($0.key.rawValue, $0.value) })
    }
}

/// What an upload did, for `POST /assets/upload`.
public enum UploadStatus: String, Sendable {
    case created
    case reused
    case addedProvider = "added_provider"
    /// Not on the provider yet: its delivery is queued (`202`); `GET /assets/{id}` follows it.
    case queued
}

/// Where one delivery to one provider stands, as the API shows it under `deliveries`.
public struct DeliverySummary: JSONRepresentable, Sendable, Equatable {
    public let state: String
    public let attempts: Int
    public let lastError: String?
    public let updatedAt: String

    public init(state: String, attempts: Int, lastError: String?, updatedAt: String) {
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.updatedAt = updatedAt
    }

    public var json: JSONValue {
        .object([
            ("state", .string(state)), ("attempts", .int(Int64(attempts))), ("last_error", .string(lastError)),
            ("updated_at", .string(updatedAt)),
        ])
    }

    /// `{provider_id: {...}}`, keys sorted.
    public static func map(_ deliveries: [String: DeliverySummary]) -> JSONValue {
        .object(deliveries.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })
    }
}

/// The upload answer: ours, plus every field the seed system's clients read.
public struct UploadResult: JSONRepresentable, Sendable, Equatable {
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
    /// The asset's deliveries by provider id (what `GET /assets/{id}` shows too).
    public let deliveries: [String: DeliverySummary]
    /// `perceptual_hash` and `similar`; nil leaves both keys out.
    public var nearDuplicates: NearDuplicateFields?

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("asset_id", .int(assetID)), ("sha256", .string(sha256)), ("size", .int(size)),
            ("status", .string(status.rawValue)), ("provider_id", .string(providerID)),
            ("provider_asset_id", .string(providerAssetID)), ("uploaded_to_providers", .strings(uploadedToProviders)),
            ("media_type", .string(mediaType)), ("external_url", .string(externalURL)), ("note", .string(note)),
            ("deliveries", DeliverySummary.map(deliveries)),
        ]
        if let nearDuplicates { fields += nearDuplicates.fields }
        return .object(fields)
    }

    public init(
        asset: Asset, status: UploadStatus, provider: ProviderID, deliveries: [String: DeliverySummary] = [:]
    ) {
        self.assetID = asset.id.rawValue
        self.sha256 = asset.sha256?.hex ?? ""
        self.size = asset.size
        self.status = status
        self.providerID = provider.rawValue
        self.providerAssetID = asset.uploads[provider]
        self.uploadedToProviders = asset.uploadedProviders.map(\.rawValue)
        self.mediaType = MediaType(mimeType: asset.mimeType).rawValue
        self.externalURL = nil
        self.deliveries = deliveries
        switch status {
        case .created: self.note = Notes.created(uploadedTo: provider)
        case .reused: self.note = Notes.reused(alreadyOn: provider)
        case .addedProvider: self.note = Notes.reused(uploadedTo: provider)
        case .queued: self.note = Notes.queued(for: provider)
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
public struct AssetView: JSONRepresentable, Sendable, Equatable {
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
    /// Deliveries by provider id; nil leaves the key out (the list endpoint).
    public let deliveries: [String: DeliverySummary]?
    /// `perceptual_hash` and `similar`; nil leaves both keys out (the list endpoint).
    public var nearDuplicates: NearDuplicateFields?
    /// When the user trashed it; null while live.
    public let trashedAt: String?

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("asset_id", .int(assetID)), ("sha256", .string(sha256)), ("size", .int(size)),
            ("mime_type", .string(mimeType)), ("media_type", .string(mediaType)),
            ("original_filename", .string(originalFilename)), ("provider_id", .string(providerID)),
            ("created_at", .string(createdAt)), ("uploaded_to_providers", .strings(uploadedToProviders)),
            ("providers", .object(providers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("trashed_at", .string(trashedAt)),
        ]
        if let deliveries { fields.append(("deliveries", DeliverySummary.map(deliveries))) }
        if let nearDuplicates { fields += nearDuplicates.fields }
        return .object(fields)
    }

    public init(_ asset: Asset, deliveries: [String: DeliverySummary]? = nil) {
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
        self.trashedAt = asset.trashedAt
        self.deliveries = deliveries
    }
}

/// An asset's `perceptual_hash` (null until computed) and `similar` list, already as JSON: the
/// hash types live in `PerceptualHash`, which the core does not depend on.
public struct NearDuplicateFields: Sendable, Equatable {
    public let perceptualHash: JSONValue
    public let similar: JSONValue

    public init(perceptualHash: JSONValue, similar: JSONValue) {
        self.perceptualHash = perceptualHash
        self.similar = similar
    }

    var fields: [(String, JSONValue)] { [("perceptual_hash", perceptualHash), ("similar", similar)] }
}

// The seed system's clients read `asset_id: null` rather than a missing key, so these answers
// spell out every field, null included (synthesised Encodable would drop nil fields).

extension CheckResult {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(exists, forKey: .exists)
        try container.encode(assetID, forKey: .assetID)
        try container.encode(providerID, forKey: .providerID)
        try container.encode(uploadedToProviders, forKey: .uploadedToProviders)
        try container.encode(note, forKey: .note)
        try container.encodeIfPresent(error, forKey: .error)
    }
}

extension LegacyCheckBatchResponse.Item {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(exists, forKey: .exists)
        try container.encode(assetID, forKey: .assetID)
        try container.encodeIfPresent(error, forKey: .error)
    }
}

extension UploadResult {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(assetID, forKey: .assetID)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(size, forKey: .size)
        try container.encode(status, forKey: .status)
        try container.encode(providerID, forKey: .providerID)
        try container.encode(providerAssetID, forKey: .providerAssetID)
        try container.encode(uploadedToProviders, forKey: .uploadedToProviders)
        try container.encode(mediaType, forKey: .mediaType)
        try container.encode(externalURL, forKey: .externalURL)
        try container.encode(note, forKey: .note)
    }
}

extension AssetView {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(assetID, forKey: .assetID)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(size, forKey: .size)
        try container.encode(mimeType, forKey: .mimeType)
        try container.encode(mediaType, forKey: .mediaType)
        try container.encode(originalFilename, forKey: .originalFilename)
        try container.encode(providerID, forKey: .providerID)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(uploadedToProviders, forKey: .uploadedToProviders)
        try container.encode(providers, forKey: .providers)
    }
}

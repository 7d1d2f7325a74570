/// `POST /assets/check-by-hash` body.
public struct CheckByHashRequest: Decodable, Sendable {
    public let sha256: String
    public let providerID: String?

    enum CodingKeys: String, CodingKey {
        case sha256
        case providerID = "provider_id"
    }
}

/// `POST /assets/check-by-hash/batch` body.
public struct CheckByHashBatchRequest: Decodable, Sendable {
    public let items: [CheckByHashRequest]
}

/// The seed system's batch form, `POST /assets/check-by-hash-batch` `{hashes: [...]}`.
public struct LegacyCheckBatchRequest: Decodable, Sendable {
    public let hashes: [String]
}

/// The `{"error": {...}}` object; also used per item in batch answers.
public struct APIErrorBody: Encodable, Sendable, Equatable {
    public let code: String
    public let message: String
    /// Only for provider failures: whether trying again later may succeed.
    public let retryable: Bool?

    public init(code: String, message: String, retryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }
}

/// One answer of check-by-hash, single or batch.
public struct CheckResult: Encodable, Sendable, Equatable {
    public let sha256: String
    public let exists: Bool
    public let assetID: Int64?
    public let providerID: String?
    public let uploadedToProviders: [String]
    public let note: String?
    public let error: APIErrorBody?

    enum CodingKeys: String, CodingKey {
        case sha256, exists, note, error
        case assetID = "asset_id"
        case providerID = "provider_id"
        case uploadedToProviders = "uploaded_to_providers"
    }

    /// The answer for the caller's own asset with this hash (or none), in the seed system's
    /// wording. `asset` must already be scoped to the caller.
    public static func answer(sha256: SHA256Digest, asset: Asset?, provider: ProviderID?) -> CheckResult {
        guard let asset else {
            return CheckResult(
                sha256: sha256.hex, exists: false, assetID: nil, providerID: provider?.rawValue, uploadedToProviders: [],
                note: Notes.notFound, error: nil)
        }
        let note: String
        if let provider {
            note = asset.uploads[provider] != nil ? Notes.alreadyUploaded(to: provider) : Notes.notUploaded(to: provider)
        } else {
            note = Notes.exists
        }
        return CheckResult(
            sha256: sha256.hex, exists: true, assetID: asset.id.rawValue,
            providerID: provider?.rawValue ?? asset.providerID?.rawValue,
            uploadedToProviders: asset.uploadedProviders.map(\.rawValue), note: note, error: nil)
    }

    /// A per-item failure inside a batch (the batch itself still succeeds).
    public static func failure(sha256: String, _ error: ValidationError) -> CheckResult {
        CheckResult(
            sha256: sha256, exists: false, assetID: nil, providerID: nil, uploadedToProviders: [], note: nil,
            error: APIErrorBody(code: error.code.rawValue, message: error.message))
    }
}

/// `{"results": [...]}` for the batch endpoint.
public struct CheckBatchResponse: Encodable, Sendable {
    public let results: [CheckResult]
    public init(results: [CheckResult]) { self.results = results }
}

/// The seed system's batch answer: `{results: [{sha256, exists, asset_id}], found_count}`.
public struct LegacyCheckBatchResponse: Encodable, Sendable {
    public struct Item: Encodable, Sendable {
        public let sha256: String
        public let exists: Bool
        public let assetID: Int64?
        public let error: APIErrorBody?

        enum CodingKeys: String, CodingKey {
            case sha256, exists, error
            case assetID = "asset_id"
        }

        public init(sha256: String, exists: Bool, assetID: Int64?, error: APIErrorBody?) {
            self.sha256 = sha256
            self.exists = exists
            self.assetID = assetID
            self.error = error
        }
    }

    public let results: [Item]
    public let foundCount: Int

    enum CodingKeys: String, CodingKey {
        case results
        case foundCount = "found_count"
    }

    public init(results: [Item]) {
        self.results = results
        self.foundCount = results.filter(\.exists).count
    }
}

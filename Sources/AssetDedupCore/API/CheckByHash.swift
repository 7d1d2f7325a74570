/// `POST /assets/check-by-hash` body: `{"sha256": "...", "provider_id": "..."?}`.
public struct CheckByHashRequest: JSONReadable, Sendable {
    public let sha256: String
    public let providerID: String?

    public init(json: JSONValue) throws {
        try self.init(fields: JSONFields(json))
    }

    init(fields: JSONFields) throws {
        sha256 = try fields.string("sha256")
        providerID = try fields.optionalString("provider_id")
    }
}

/// `POST /assets/check-by-hash/batch` body: `{"items": [{sha256, provider_id?}, ...]}`.
public struct CheckByHashBatchRequest: JSONReadable, Sendable {
    public let items: [CheckByHashRequest]

    public init(json: JSONValue) throws {
        items = try JSONFields(json).array("items").map { try CheckByHashRequest(fields: JSONFields($0.value, path: $0.path)) }
    }
}

/// The seed system's batch form, `POST /assets/check-by-hash-batch` `{hashes: [...]}`.
public struct LegacyCheckBatchRequest: JSONReadable, Sendable {
    public let hashes: [String]

    public init(json: JSONValue) throws {
        hashes = try JSONFields(json).array("hashes").map { element in
            guard case .string(let text) = element.value else { throw JSONShapeError.wrongType(path: element.path) }
            return text
        }
    }
}

/// The `{"error": {...}}` object; also used per item in batch answers.
public struct APIErrorBody: JSONRepresentable, Sendable, Equatable {
    public let code: String
    public let message: String
    /// Only for provider failures: whether trying again later may succeed.
    public let retryable: Bool?

    public init(code: String, message: String, retryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("code", .string(code)), ("message", .string(message))]
        if let retryable { members.append(("retryable", .bool(retryable))) }
        return .object(members)
    }
}

/// One answer of check-by-hash, single or batch.
public struct CheckResult: JSONRepresentable, Sendable, Equatable {
    public let sha256: String
    public let exists: Bool
    public let assetID: Int64?
    public let providerID: String?
    public let uploadedToProviders: [String]
    public let note: String?
    public let error: APIErrorBody?

    /// Every field is spelled out, null included: the seed system's clients read `asset_id: null`.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("sha256", .string(sha256)), ("exists", .bool(exists)), ("asset_id", .int(assetID)),
            ("provider_id", .string(providerID)), ("uploaded_to_providers", .strings(uploadedToProviders)),
            ("note", .string(note)),
        ]
        if let error { members.append(("error", error.json)) }
        return .object(members)
    }

    /// The answer for the caller's own asset with this hash (or none), in the seed system's
    /// wording. `asset` must already be scoped to the caller.
    public static func answer(sha256: SHA256Digest, asset: AssetPresence?, provider: ProviderID?) -> CheckResult {
        guard let asset else {
            return CheckResult(
                sha256: sha256.hex, exists: false, assetID: nil, providerID: provider?.rawValue, uploadedToProviders: [],
                note: Notes.notFound, error: nil)
        }
        let note: String
        if let provider {
            note = asset.uploadedProviders.contains(provider) ? Notes.alreadyUploaded(to: provider) : Notes.notUploaded(to: provider)
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
public struct CheckBatchResponse: JSONRepresentable, Sendable {
    public let results: [CheckResult]
    public init(results: [CheckResult]) { self.results = results }
    public var json: JSONValue { .object([("results", .array(results.map(\.json)))]) }
}

/// The seed system's batch answer: `{results: [{sha256, exists, asset_id}], found_count}`.
public struct LegacyCheckBatchResponse: JSONRepresentable, Sendable {
    public struct Item: JSONRepresentable, Sendable {
        public let sha256: String
        public let exists: Bool
        public let assetID: Int64?
        public let error: APIErrorBody?

        public var json: JSONValue {
            var members: [(String, JSONValue)] = [
                ("sha256", .string(sha256)), ("exists", .bool(exists)), ("asset_id", .int(assetID)),
            ]
            if let error { members.append(("error", error.json)) }
            return .object(members)
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

    public var json: JSONValue {
        .object([("results", .array(results.map(\.json))), ("found_count", .int(Int64(foundCount)))])
    }

    public init(results: [Item]) {
        self.results = results
        self.foundCount = results.filter(\.exists).count
    }
}

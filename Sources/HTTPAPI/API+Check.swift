import AssetDedupCore
import StoreProtocols

extension API {
    /// `POST /assets/check-by-hash`: read-only; another user's asset is `exists: false`.
    func checkByHash(_ request: HTTPRequest) throws -> HTTPResponse {
        try reading(request) {
            let body = try decodeJSON(CheckByHashRequest.self, from: request)
            return (sha256: try SHA256Digest(parsing: body.sha256), provider: try body.providerID.map(configuredProvider))
        } _: { user, input in
            let asset = try store.assetPresence(user: user.userID, sha256: input.sha256)
            return .json(CheckResult.answer(sha256: input.sha256, asset: asset, provider: input.provider))
        } combined: { token, input in
            try store.presence(token: token, sha256: input.sha256).map { user, asset in
                (user, .json(CheckResult.answer(sha256: input.sha256, asset: asset, provider: input.provider)))
            }
        }
    }

    /// `POST /assets/check-by-hash/batch`: one result per item, in order; a bad item gets its
    /// own error and the others are still answered. One read snapshot for the whole batch.
    func checkByHashBatch(_ request: HTTPRequest) throws -> HTTPResponse {
        try batch(request, CheckByHashBatchRequest.self, count: \.items.count, checkBatch)
    }

    private func checkBatch(_ body: CheckByHashBatchRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let results = try store.readSnapshot {
            try body.items.map { item -> CheckResult in
                let sha256: SHA256Digest
                let provider: ProviderID?
                do {
                    sha256 = try SHA256Digest(parsing: item.sha256)
                    provider = try item.providerID.map { try ProviderID(parsing: $0) }
                } catch let error as ValidationError {
                    return CheckResult.failure(sha256: item.sha256, error)
                }
                if let provider, self.providers.provider(provider) == nil {
                    return CheckResult.failure(
                        sha256: item.sha256,
                        ValidationError(code: .init(rawValue: "unknown_provider"), message: "provider '\(provider)' is not configured"))
                }
                let asset = try store.assetPresence(user: user.userID, sha256: sha256)
                return CheckResult.answer(sha256: sha256, asset: asset, provider: provider)
            }
        }
        return .json(CheckBatchResponse(results: results))
    }

    /// The seed system's `POST /assets/check-by-hash-batch {hashes}`; invalid hashes are
    /// answered per item instead of being silently dropped as the seed did.
    func legacyCheckBatch(_ request: HTTPRequest) throws -> HTTPResponse {
        try batch(request, LegacyCheckBatchRequest.self, count: \.hashes.count, legacyCheckBatch)
    }

    private func legacyCheckBatch(_ body: LegacyCheckBatchRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let items = try store.readSnapshot {
            try body.hashes.map { text -> LegacyCheckBatchResponse.Item in
                do {
                    let sha256 = try SHA256Digest(parsing: text)
                    let asset = try store.assetPresence(user: user.userID, sha256: sha256)
                    return .init(sha256: sha256.hex, exists: asset != nil, assetID: asset?.id.rawValue, error: nil)
                } catch let error as ValidationError {
                    return .init(
                        sha256: text, exists: false, assetID: nil,
                        error: APIErrorBody(code: error.code.rawValue, message: error.message))
                }
            }
        }
        return .json(LegacyCheckBatchResponse(results: items))
    }

    /// A batch endpoint: the body is read and its size checked once, then `work` runs as the user.
    private func batch<Body: JSONReadable>(
        _ request: HTTPRequest, _ type: Body.Type, count: (Body) -> Int,
        _ work: (Body, AuthenticatedUser) throws -> HTTPResponse
    ) throws -> HTTPResponse {
        try reading(request) {
            let body = try decodeJSON(type, from: request)
            try checkBatchSize(count(body))
            return body
        } _: { user, body in
            try work(body, user)
        }
    }

    private func checkBatchSize(_ count: Int) throws {
        guard count <= limits.maxBatchItems else {
            throw APIError.tooLarge("a batch holds at most \(limits.maxBatchItems) items, got \(count)")
        }
    }
}

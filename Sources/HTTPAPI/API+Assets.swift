import AssetDedupCore
import AssetStore

/// `GET /assets` page.
struct AssetPage: Encodable {
    let assets: [AssetView]
    /// Pass as `after` for the next page; null on the last page.
    let nextAfter: Int64?

    enum CodingKeys: String, CodingKey {
        case assets
        case nextAfter = "next_after"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(assets, forKey: .assets)
        try container.encode(nextAfter, forKey: .nextAfter)  // null on the last page, not missing
    }
}

/// `GET /health`.
struct Health: Encodable {
    let ok: Bool
    let schemaVersion: Int
    let latestSchemaVersion: Int

    enum CodingKeys: String, CodingKey {
        case ok
        case schemaVersion = "schema_version"
        case latestSchemaVersion = "latest_schema_version"
    }
}

/// `GET /providers`.
struct ProviderList: Encodable {
    struct Item: Encodable {
        let id: String
        let kind: String
        let health: String
    }
    let providers: [Item]
}

extension API {
    /// `GET /assets/{id}`: the caller's own asset; another user's is 404 exactly like a missing one.
    func getAsset(id text: String, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let id = try? AssetID(parsing: text) else { throw APIError.assetNotFound }
        guard let asset = try store.asset(id: id, user: user.userID) else { throw APIError.assetNotFound }
        return .json(AssetView(asset))
    }

    /// `GET /assets?limit&after`: keyset pagination over the caller's assets in id order.
    func listAssets(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        var limit = 50
        if let text = request.query["limit"] {
            guard let value = Int(text), (1...limits.maxPageSize).contains(value) else {
                throw APIError.badRequest("invalid_limit", "limit must be 1 to \(limits.maxPageSize)")
            }
            limit = value
        }
        var after: AssetID? = nil
        if let text = request.query["after"], !text.isEmpty {
            guard let value = try? AssetID(parsing: text) else {
                throw APIError.badRequest("invalid_after", "after must be an asset id")
            }
            after = value
        }
        let assets = try store.listAssets(user: user.userID, after: after, limit: limit + 1)
        let page = Array(assets.prefix(limit))
        return .json(AssetPage(assets: page.map(AssetView.init), nextAfter: assets.count > limit ? page.last?.id.rawValue : nil))
    }

    /// `GET /providers`: configured providers with their kind and health.
    func listProviders(user: AuthenticatedUser) throws -> HTTPResponse {
        .json(ProviderList(providers: providers.providers.map { .init(id: $0.id.rawValue, kind: $0.kind, health: $0.health().rawValue) }))
    }

    /// `GET /health` (no auth): the schema version tells a deploy whether `migrate up` ran.
    func health() throws -> HTTPResponse {
        let version = try store.schemaVersion()
        let ok = version == MigrationPlan.latestVersion
        return .json(
            Health(ok: ok, schemaVersion: version, latestSchemaVersion: MigrationPlan.latestVersion), status: ok ? 200 : 503)
    }
}

import AssetDedupCore
import StoreProtocols

/// `GET /assets` page.
struct AssetPage: JSONRepresentable {
    let assets: [AssetView]
    /// Pass as `after` for the next page; null on the last page.
    let nextAfter: Int64?

    var json: JSONValue { .object([("assets", .array(assets.map(\.json))), ("next_after", .int(nextAfter))]) }
}

/// `GET /health`.
struct Health: JSONRepresentable {
    let ok: Bool
    let schemaVersion: Int
    let latestSchemaVersion: Int

    var json: JSONValue {
        .object([
            ("ok", .bool(ok)), ("schema_version", .int(Int64(schemaVersion))),
            ("latest_schema_version", .int(Int64(latestSchemaVersion))),
        ])
    }
}

/// `GET /providers`.
struct ProviderList: JSONRepresentable {
    struct Item {
        let id: String
        let kind: String
        let health: String
    }
    let providers: [Item]

    var json: JSONValue {
        .object([
            (
                "providers",
                .array(
                    providers.map {
                        .object([("id", .string($0.id)), ("kind", .string($0.kind)), ("health", .string($0.health))])
                    })
            )
        ])
    }
}

extension API {
    /// `GET /assets/{id}`: the caller's own asset with its deliveries and near-duplicates; another user's is 404
    /// exactly like a missing one.
    func getAsset(id text: String, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let id = try? AssetID(parsing: text) else { throw APIError.assetNotFound }
        // A trashed asset is deleted as far as this resource goes: it lives at /trash/{id}.
        guard let asset = try store.asset(id: id, user: user.userID), asset.trashedAt == nil else {
            throw APIError.assetNotFound
        }
        var view = AssetView(asset, deliveries: try summaries(of: id))
        view.nearDuplicates = try nearDuplicateFields(id, user: user.userID)
        return .json(view)
    }

    /// `GET /assets?limit&after`: keyset pagination over the caller's assets in id order.
    func listAssets(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let (limit, after) = try page(request)
        let assets = try store.listAssets(user: user.userID, after: after, limit: limit + 1)
        let page = Array(assets.prefix(limit))
        return .json(
            AssetPage(
                assets: page.map { AssetView($0) }, nextAfter: assets.count > limit ? page.last?.id.rawValue : nil))
    }

    /// `GET /providers`: configured providers with their kind and health.
    func listProviders(user: AuthenticatedUser) throws -> HTTPResponse {
        .json(
            ProviderList(
                providers: providers.providers.map {
                    .init(id: $0.id.rawValue, kind: $0.kind, health: $0.health().rawValue)
                }))
    }

    /// `GET /health` (no auth): the schema version tells a deploy whether `migrate up` ran.
    func health() throws -> HTTPResponse {
        let version = try store.schemaVersion()
        let ok = version == store.latestKnownVersion
        return .json(
            Health(ok: ok, schemaVersion: version, latestSchemaVersion: store.latestKnownVersion),
            status: ok ? 200 : 503)
    }
}

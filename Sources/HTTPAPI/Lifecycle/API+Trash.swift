import AssetDedupCore
import StoreProtocols

/// The asset lifecycle over HTTP: `DELETE /assets/{id}` moves an asset to the trash, where it
/// is hidden from checks, the asset list and similar searches; `POST /assets/{id}/restore`
/// brings it back; `GET /trash` lists it; `DELETE /trash/{id}` purges it now (else serve's
/// retention does, `--trash-days`). Uploading trashed content again restores the same row.
extension API {
    /// `DELETE /assets/{id}`: 200 with the asset, `trashed_at` set (again: unchanged).
    func trashAsset(id text: String, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let id = try? AssetID(parsing: text), let asset = try store.trashAsset(id: id, user: user.userID) else {
            throw APIError.assetNotFound
        }
        metrics.lifecycle(.trashed)
        logger.info("asset \(id) of user \(user.name) moved to the trash")
        return .json(AssetView(asset, deliveries: try summaries(of: id)))
    }

    /// `POST /assets/{id}/restore`: 200 with the asset back in the list.
    func restoreAsset(id text: String, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let id = try? AssetID(parsing: text), let asset = try store.restoreAsset(id: id, user: user.userID) else {
            throw APIError.assetNotFound
        }
        metrics.lifecycle(.restored)
        logger.info("asset \(id) of user \(user.name) restored from the trash")
        return .json(AssetView(asset, deliveries: try summaries(of: id)))
    }

    /// `GET /trash?limit&after`: the caller's trashed assets in id order.
    func listTrash(_ request: HTTPRequest, user: AuthenticatedUser) throws -> HTTPResponse {
        let (limit, after) = try page(request)
        let assets = try store.listTrash(user: user.userID, after: after, limit: limit + 1)
        let page = Array(assets.prefix(limit))
        return .json(
            AssetPage(
                assets: page.map { AssetView($0) }, nextAfter: assets.count > limit ? page.last?.id.rawValue : nil))
    }

    /// `GET /trash/{id}`: one of the caller's trashed assets (a live one is at /assets/{id}).
    func trashedAsset(id text: String, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let id = try? AssetID(parsing: text), let asset = try store.asset(id: id, user: user.userID),
            asset.trashedAt != nil
        else { throw APIError.assetNotFound }
        return .json(AssetView(asset, deliveries: try summaries(of: id)))
    }

    /// `DELETE /trash/{id}`: purges a trashed asset now; 204. A live one is 409 `not_trashed`, one
    /// being delivered right now 409 `delivery_in_progress` (retry).
    func purgeAsset(id text: String, user: AuthenticatedUser) throws -> HTTPResponse {
        guard let id = try? AssetID(parsing: text), try store.asset(id: id, user: user.userID) != nil else {
            throw APIError.assetNotFound
        }
        switch try purger.purge(id, store: store) {
        case .purged, .notFound: return HTTPResponse(status: 204)
        case .notTrashed:
            throw APIError(
                status: 409, code: "not_trashed",
                message: "asset \(id) is not in the trash: DELETE /api/v1/assets/\(id) first")
        case .deliveryInProgress:
            throw APIError(
                status: 409, code: "delivery_in_progress",
                message: "asset \(id) is being delivered right now; purge it once that ends", retryable: true)
        }
    }

    /// `limit` (1 to the page limit, 50) and `after` (an asset id) of a listing.
    func page(_ request: HTTPRequest) throws -> (limit: Int, after: AssetID?) {
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
        return (limit, after)
    }
}

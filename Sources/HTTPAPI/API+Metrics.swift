import StoreProtocols
import Metrics

extension API {
    /// Route patterns under `/api/v1`, the `route` label of the request metrics: fixed strings,
    /// never raw ids, so the label stays bounded. `other` is anything the router does not know.
    public static let routeLabels: [String] = [
        "/health", "/auth/admin", "/auth/user", "/assets/check-by-hash", "/assets/check-by-hash/batch",
        "/assets/check-by-hash-batch", "/assets/upload", "/assets", "/assets/{id}", "/assets/{id}/providers",
        "/uploads", "/uploads/{id}", "/providers", "/metrics", "/admin/duplicates",
        "/admin/duplicates/{sha256}/review", "/assets/similar", "other",
    ]

    /// The index in `routeLabels` of the route `path` takes, as `route` matches it.
    static func routeIndex(_ path: String) -> Int {
        let other = routeLabels.count - 1
        let prefix = "/api/v1"
        guard path.hasPrefix(prefix) else { return other }
        let path = path.dropFirst(prefix.count)
        if let index = routeLabels.firstIndex(where: { $0 == path }), index != other { return index }
        func label(_ name: String) -> Int { routeLabels.firstIndex(of: name) ?? other }
        if path.hasPrefix("/uploads/") { return label("/uploads/{id}") }
        if path.hasPrefix("/assets/") { return label(path.hasSuffix("/providers") ? "/assets/{id}/providers" : "/assets/{id}") }
        if path.hasPrefix("/admin/duplicates/"), path.hasSuffix("/review") { return label("/admin/duplicates/{sha256}/review") }
        return other
    }

    /// Counts the request (route, status, latency, in flight) around `work`.
    func measured(_ request: HTTPRequest, _ work: () -> HTTPResponse) -> HTTPResponse {
        let start = metrics.started()
        let response = work()
        metrics.finished(route: Self.routeIndex(request.path), status: response.status, since: start)
        return response
    }

    /// `GET /metrics`: the Prometheus text exposition, for admins only (401 without a valid
    /// token, 403 for other users). The delivery queue's depth is read from the database now.
    func metricsText(_ request: HTTPRequest) throws -> HTTPResponse {
        guard try authenticate(request).isAdmin else {
            throw APIError(status: 403, code: "forbidden", message: "admins only")
        }
        let counts = try store.deliveryCounts()
        let states: [DeliveryState] = [.queued, .delivering, .delivered, .failed]
        let text = metrics.render(queue: states.map { ($0.rawValue, counts[$0] ?? 0) })
        return HTTPResponse(
            status: 200, headers: [("Content-Type", PrometheusText.contentType)], body: Array(text.utf8))
    }
}

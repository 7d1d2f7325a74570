import Metrics
import StoreProtocols

extension API {
    /// Counts the request (route pattern, status, latency, in flight) around `work`.
    func measured(_ match: RouteTable.Match, _ work: () -> HTTPResponse) -> HTTPResponse {
        let label: Int
        switch match {
        case .route(_, _, let index), .methodNotAllowed(_, let index): label = index
        case .notFound: label = Self.routes.otherLabel
        }
        let start = metrics.started()
        let response = work()
        metrics.finished(route: label, status: response.status, since: start)
        return response
    }

    /// `GET /metrics` (admins): the Prometheus text exposition. The delivery queue's depth is
    /// read from the database now.
    func metricsText() throws -> HTTPResponse {
        let counts = try store.deliveryCounts()
        let states: [DeliveryState] = [.queued, .delivering, .delivered, .failed]
        let text = metrics.render(queue: states.map { ($0.rawValue, counts[$0] ?? 0) })
        return HTTPResponse(
            status: 200, headers: [("Content-Type", PrometheusText.contentType)], body: Array(text.utf8))
    }
}

import Synchronization

/// The process's metrics, shared by every request thread and delivery worker (`serve` makes one
/// and passes it in); `GET /api/v1/metrics` renders it in the Prometheus text format.
///
/// Every label is bounded: routes are the fixed patterns the caller names at init (never raw
/// ids), statuses a fixed list (anything else is `other`), outcomes fixed enums, providers the
/// configured ones. The request path costs a few relaxed atomic adds; only delivery outcomes
/// (one per provider call, never on a request's hot path) take a lock.
public final class Metrics: Sendable {
    /// Route patterns, indexed by what the caller passes to `request(route:...)`.
    public let routes: [String]
    /// The server's request threads (`assetdedup_worker_threads`).
    public let serveThreads: Int
    /// Latency buckets in seconds: sub-millisecond checks up to multi-second uploads.
    public static let latencyBounds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]
    /// Statuses counted by value; any other is counted as `other`.
    public static let statuses: [Int] = [
        200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 422, 423, 460, 500, 502, 503, 507,
    ]
    /// Upload answers, in the order of `UploadOutcome`.
    public enum UploadOutcome: Int, Sendable, CaseIterable {
        case created, reused, addedProvider, queued
        var label: String {
            switch self {
            case .created: "created"
            case .reused: "reused"
            case .addedProvider: "added_provider"
            case .queued: "queued"
            }
        }
    }
    /// What became of one provider call.
    public enum DeliveryOutcome: Int, Sendable, CaseIterable {
        case ok, retry, failed
        var label: String {
            switch self {
            case .ok: "ok"
            case .retry: "retry"
            case .failed: "failed"
            }
        }
    }

    /// What happened to assets and their copies (issue 26's lifecycle).
    public enum LifecycleEvent: Int, Sendable, CaseIterable {
        case trashed, restored, purged, providerCopyDeleted, refusedMedia
        var label: String {
            switch self {
            case .trashed: "trashed"
            case .restored: "restored"
            case .purged: "purged"
            case .providerCopyDeleted: "provider_copy_deleted"
            case .refusedMedia: "refused_media"
            }
        }
    }

    /// What serve's integrity job (issue 24) found and did, one count per copy checked or repaired.
    public enum IntegrityOutcome: Int, Sendable, CaseIterable {
        case ok, missing, corrupt, unreachable, unverifiable, repaired, notRepaired, queuedForMinimum
        var label: String {
            switch self {
            case .ok: "ok"
            case .missing: "missing"
            case .corrupt: "corrupt"
            case .unreachable: "unreachable"
            case .unverifiable: "unverifiable"
            case .repaired: "repaired"
            case .notRepaired: "not_repaired"
            case .queuedForMinimum: "queued_for_minimum"
            }
        }
    }

    /// `[route][status index]`, the last status index being `other`.
    private let requests: [[Counter]]
    private let latency: [Histogram]
    private let inFlight = Counter()
    private let busy = Counter()
    private let uploadBytes = Counter()
    private let uploads = UploadOutcome.allCases.map { _ in Counter() }
    private let lifecycle = LifecycleEvent.allCases.map { _ in Counter() }
    private let integrity = IntegrityOutcome.allCases.map { _ in Counter() }
    /// Provider id -> counts by `DeliveryOutcome`.
    private let deliveries = Mutex<[String: [Int]]>([:])

    public init(routes: [String] = ["other"], serveThreads: Int = 1) {
        self.routes = routes
        self.serveThreads = serveThreads
        self.requests = routes.map { _ in (0...Self.statuses.count).map { _ in Counter() } }
        self.latency = routes.map { _ in Histogram(bounds: Self.latencyBounds) }
    }

    // MARK: Recording

    /// A request thread took a request: call `finished` when it answers.
    public func started() -> ContinuousClock.Instant {
        inFlight.add()
        return .now
    }

    /// The request that `started` at `start` answered `status` on route `route` (an index into `routes`).
    public func finished(route: Int, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = start.duration(to: .now)
        inFlight.subtract()
        guard routes.indices.contains(route) else { return }
        requests[route][Self.statuses.firstIndex(of: status) ?? Self.statuses.count].add()
        latency[route].observe(elapsed)
        if status == 503 { busy.add() }
    }

    /// Upload body bytes taken in (multipart file parts, resumable appends).
    public func receivedUploadBytes(_ count: Int64) { uploadBytes.add(Int(count)) }

    public func upload(_ outcome: UploadOutcome) { uploads[outcome.rawValue].add() }

    public func lifecycle(_ event: LifecycleEvent, count: Int = 1) { lifecycle[event.rawValue].add(count) }

    public func lifecycleCount(_ event: LifecycleEvent) -> Int { lifecycle[event.rawValue].current }

    public func integrity(_ outcome: IntegrityOutcome, count: Int = 1) { integrity[outcome.rawValue].add(count) }

    public func delivery(to provider: String, _ outcome: DeliveryOutcome) {
        deliveries.withLock { counts in
            counts[provider, default: DeliveryOutcome.allCases.map { _ in 0 }][outcome.rawValue] += 1
        }
    }

    // MARK: Reading (tests, the scrape)

    public func requestCount(route: Int, status: Int) -> Int {
        requests[route][Self.statuses.firstIndex(of: status) ?? Self.statuses.count].current
    }
    public func latencySnapshot(route: Int) -> HistogramSnapshot { latency[route].snapshot }
    public var requestsInFlight: Int { inFlight.current }
    public var busyAnswers: Int { busy.current }
    public var uploadByteCount: Int { uploadBytes.current }
    public func uploadCount(_ outcome: UploadOutcome) -> Int { uploads[outcome.rawValue].current }
    public func deliveryCount(to provider: String, _ outcome: DeliveryOutcome) -> Int {
        deliveries.withLock { $0[provider]?[outcome.rawValue] ?? 0 }
    }

    /// The exposition text. `queue` is the delivery queue's depth by state, read from the
    /// database at scrape time (every state is listed, zero included).
    public func render(queue: [(state: String, count: Int)]) -> String {
        var out = PrometheusText()
        out.family(
            "assetdedup_http_requests_total", "counter",
            help: "HTTP requests answered, by route pattern and status code.")
        for (index, route) in routes.enumerated() {
            for (statusIndex, counter) in requests[index].enumerated() where counter.current > 0 {
                let code = statusIndex < Self.statuses.count ? String(Self.statuses[statusIndex]) : "other"
                out.sample("assetdedup_http_requests_total", [("route", route), ("code", code)], counter.current)
            }
        }
        out.family(
            "assetdedup_http_request_duration_seconds", "histogram",
            help: "Time from taking a request to having its answer, by route pattern.")
        for (index, route) in routes.enumerated() {
            let snapshot = latency[index].snapshot
            guard snapshot.counts.contains(where: { $0 > 0 }) else { continue }
            out.histogram("assetdedup_http_request_duration_seconds", [("route", route)], snapshot)
        }
        out.family(
            "assetdedup_db_busy_total", "counter",
            help: "Requests answered 503 busy because the database stayed locked past the busy timeout.")
        out.sample("assetdedup_db_busy_total", [], busy.current)
        out.family(
            "assetdedup_worker_threads_busy", "gauge", help: "Requests in progress across the request threads.")
        out.sample("assetdedup_worker_threads_busy", [], inFlight.current)
        out.family("assetdedup_worker_threads", "gauge", help: "Request threads the server runs.")
        out.sample("assetdedup_worker_threads", [], serveThreads)
        out.family(
            "assetdedup_upload_bytes_total", "counter",
            help: "Upload body bytes taken in: multipart file parts and resumable appends.")
        out.sample("assetdedup_upload_bytes_total", [], uploadBytes.current)
        out.family(
            "assetdedup_uploads_total", "counter",
            help: "Upload answers by dedup outcome (multipart, resumable and add-provider).")
        for outcome in UploadOutcome.allCases {
            out.sample("assetdedup_uploads_total", [("outcome", outcome.label)], uploads[outcome.rawValue].current)
        }
        out.family(
            "assetdedup_asset_lifecycle_total", "counter",
            help:
                "Assets trashed, restored and purged, provider copies deleted by a purge, uploads refused for their media type."
        )
        for event in LifecycleEvent.allCases {
            out.sample("assetdedup_asset_lifecycle_total", [("event", event.label)], lifecycle[event.rawValue].current)
        }
        out.family(
            "assetdedup_integrity_total", "counter",
            help:
                "serve's integrity job: copies checked by outcome (ok, missing, corrupt, unreachable, unverifiable), repairs done and not done, deliveries queued for minimum copies."
        )
        for outcome in IntegrityOutcome.allCases {
            out.sample("assetdedup_integrity_total", [("outcome", outcome.label)], integrity[outcome.rawValue].current)
        }
        out.family(
            "assetdedup_deliveries_total", "counter",
            help: "Provider calls by provider and outcome: ok, retry (failed, will be retried), failed (for good).")
        for (provider, counts) in deliveries.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            for outcome in DeliveryOutcome.allCases {
                out.sample(
                    "assetdedup_deliveries_total", [("provider", provider), ("outcome", outcome.label)],
                    counts[outcome.rawValue])
            }
        }
        out.family(
            "assetdedup_delivery_queue", "gauge", help: "Delivery jobs by state, read from the database at scrape time."
        )
        for (state, count) in queue {
            out.sample("assetdedup_delivery_queue", [("state", state)], count)
        }
        return out.text
    }
}

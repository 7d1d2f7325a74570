import AssetDedupCore
import SQLiteStore
import Foundation
import Metrics
import Testing

@testable import HTTPAPI

@Suite struct PrometheusTextTests {
    @Test func labelValuesAreEscaped() {
        #expect(PrometheusText.escapeLabelValue("plain /assets/{id}") == "plain /assets/{id}")
        #expect(PrometheusText.escapeLabelValue(#"a\b"c"#) == #"a\\b\"c"#)
        #expect(PrometheusText.escapeLabelValue("line\nbreak") == #"line\nbreak"#)
        var text = PrometheusText()
        text.sample("m_total", [("a", "x\"y"), ("b", "z")], 3)
        #expect(text.text == "m_total{a=\"x\\\"y\",b=\"z\"} 3\n")
        #expect(PrometheusText.escapeHelp("a\\b\nc") == #"a\\b\nc"#)
    }

    @Test func valuesAreFormattedAsPrometheusSpellsThem() {
        #expect(PrometheusText.format(0) == "0")
        #expect(PrometheusText.format(42) == "42")
        #expect(PrometheusText.format(0.0025) == "0.0025")
        #expect(PrometheusText.format(.infinity) == "+Inf")
        #expect(PrometheusText.format(-.infinity) == "-Inf")
        #expect(PrometheusText.format(.nan) == "NaN")
    }

    @Test func familiesHaveHelpAndType() {
        var text = PrometheusText()
        text.family("up_total", "counter", help: "Things.\nMore")
        text.sample("up_total", [], 1)
        #expect(text.text == "# HELP up_total Things.\\nMore\n# TYPE up_total counter\nup_total 1\n")
    }

    @Test func histogramBucketsAreCumulativeEndingWithInf() {
        let histogram = Histogram(bounds: [0.01, 0.1, 1])
        histogram.observe(nanoseconds: 5_000_000)  // 0.005 s: first bucket
        histogram.observe(nanoseconds: 10_000_000)  // exactly 0.01: le is inclusive
        histogram.observe(nanoseconds: 500_000_000)  // 0.5 s: third bucket
        histogram.observe(nanoseconds: 3_000_000_000)  // 3 s: only +Inf
        #expect(histogram.snapshot.counts == [2, 0, 1, 1])
        var text = PrometheusText()
        text.histogram("lat_seconds", [("route", "/x")], histogram.snapshot)
        #expect(
            text.text == """
                lat_seconds_bucket{route="/x",le="0.01"} 2
                lat_seconds_bucket{route="/x",le="0.1"} 2
                lat_seconds_bucket{route="/x",le="1"} 3
                lat_seconds_bucket{route="/x",le="+Inf"} 4
                lat_seconds_sum{route="/x"} 3.515
                lat_seconds_count{route="/x"} 4

                """)
    }
}

@Suite struct MetricsCountingTests {
    /// An admin's token on the harness's database.
    func adminToken(_ h: APIHarness) throws -> String {
        let admin = try h.store.addUser(name: "root", isAdmin: true)
        return try h.store.issueToken(for: admin.id).secret
    }

    func route(_ label: String) throws -> Int { try #require(API.routes.labels.firstIndex(of: label)) }

    @Test func routesAreLabelledByPatternNeverByID() throws {
        func label(_ path: String, _ method: String = "GET") -> String {
            switch API.routes.match(method: method, path: path) {
            case .route(_, _, let index), .methodNotAllowed(_, let index): API.routes.labels[index]
            case .notFound: "other"
            }
        }
        #expect(label("/api/v1/health") == "/health")
        #expect(label("/api/v1/assets") == "/assets")
        #expect(label("/api/v1/assets/123") == "/assets/{id}")
        #expect(label("/api/v1/assets/123/providers") == "/assets/{id}/providers")
        #expect(label("/api/v1/assets/check-by-hash") == "/assets/check-by-hash")
        #expect(label("/api/v1/assets/check-by-hash/batch") == "/assets/check-by-hash/batch")
        #expect(label("/api/v1/uploads") == "/uploads")
        #expect(label("/api/v1/uploads/abc") == "/uploads/{uploadId}")
        #expect(label("/api/v1/admin/near-duplicates/12/review", "POST") == "/admin/near-duplicates/{asset_id}/review")
        #expect(
            label("/api/v1/admin/duplicates/\(String(repeating: "a", count: 64))/review", "POST")
                == "/admin/duplicates/{sha256}/review")
        #expect(label("/api/v1/assets/check-by-hash", "GET") == "/assets/check-by-hash")
        #expect(label("/api/v1/metrics") == "/metrics")
        #expect(label("/api/v1/nope/123") == "other")
        #expect(label("/elsewhere") == "other")
    }

    /// Every route of the table is labelled by its own pattern, and the label list is exactly
    /// the table's patterns plus `other`: no second list to keep in step.
    @Test func everyRouteIsLabelledByItsPattern() throws {
        for route in API.routes.routes {
            let path =
                "/api/v1"
                + route.pattern.segments.map { segment -> String in
                    switch segment {
                    case .literal(let text): "/" + text
                    case .parameter: "/7"
                    }
                }.joined()
            guard case .route(let found, _, let index) = API.routes.match(method: route.method, path: path) else {
                Issue.record("\(route.method) \(path) matched no route")
                continue
            }
            #expect(found.pattern == route.pattern && found.method == route.method)
            #expect(API.routes.labels[index] == route.pattern.description)
        }
        #expect(Set(API.routes.labels) == Set(API.routes.routes.map(\.pattern.description) + ["other"]))
        #expect(API.routes.labels.count == Set(API.routes.labels).count)
    }

    @Test func requestsUploadsAndBytesAreCounted() throws {
        let h = try APIHarness()
        let metrics = h.api.metrics
        let check = #"{"sha256":"\#(String(repeating: "0", count: 64))","provider_id":"pixverse"}"#
        #expect(h.send("POST", "/api/v1/assets/check-by-hash", json: check).0 == 200)
        #expect(h.send("POST", "/api/v1/assets/check-by-hash", json: check).0 == 200)
        #expect(h.send("POST", "/api/v1/assets/check-by-hash", json: "[").0 == 400)
        #expect(h.send("GET", "/api/v1/assets/77").0 == 404)
        let checkRoute = try route("/assets/check-by-hash")
        #expect(metrics.requestCount(route: checkRoute, status: 200) == 2)
        #expect(metrics.requestCount(route: checkRoute, status: 400) == 1)
        let assetRoute = try route("/assets/{id}")
        #expect(metrics.requestCount(route: assetRoute, status: 404) == 1)
        #expect(metrics.latencySnapshot(route: checkRoute).counts.reduce(0, +) == 3)
        #expect(metrics.requestsInFlight == 0)

        let file = Array("metrics payload".utf8)
        let body = APIHarness.multipart(boundary: "B", fields: [("provider_id", "pixverse")], file: file)
        let headers = ["content-type": "multipart/form-data; boundary=B"]
        #expect(h.send("POST", "/api/v1/assets/upload", headers: headers, body: body).0 == 201)
        #expect(h.send("POST", "/api/v1/assets/upload", headers: headers, body: body).0 == 200)
        #expect(metrics.uploadCount(.created) == 1)
        #expect(metrics.uploadCount(.reused) == 1)
        #expect(metrics.uploadCount(.addedProvider) == 0)
        #expect(metrics.uploadByteCount == 2 * file.count)
        // No delivery workers in the harness: the request delivered the job itself, once.
        #expect(metrics.deliveryCount(to: "pixverse", .ok) == 1)
        #expect(metrics.deliveryCount(to: "pixverse", .failed) == 0)
    }

    @Test func scrapeIsForAdminsAndInTheTextFormat() throws {
        let h = try APIHarness()
        let admin = try adminToken(h)
        #expect(h.send("GET", "/api/v1/metrics", headers: ["authorization": ""]).0 == 401)
        let (status, json) = h.send("GET", "/api/v1/metrics")
        #expect(status == 403)
        #expect((json["error"] as? [String: Any])?["code"] as? String == "forbidden")
        #expect(h.send("POST", "/api/v1/metrics", headers: ["authorization": "Bearer \(admin)"]).0 == 405)

        let response = h.api.respond(
            to: HTTPRequest(
                method: "GET", path: "/api/v1/metrics", headers: ["authorization": "Bearer \(admin)"],
                body: BytesBody([])))
        #expect(response.status == 200)
        #expect(response.headers.contains { $0 == ("Content-Type", "text/plain; version=0.0.4; charset=utf-8") })
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains("# TYPE assetdedup_http_requests_total counter\n"))
        #expect(text.contains(#"assetdedup_http_requests_total{route="/metrics",code="403"} 1"#))
        #expect(text.contains(#"assetdedup_http_requests_total{route="/metrics",code="401"} 1"#))
        #expect(text.contains(#"assetdedup_http_request_duration_seconds_bucket{route="/metrics",le="+Inf"} 3"#))
        #expect(text.contains(#"assetdedup_delivery_queue{state="queued"} 0"#))
        #expect(text.contains(#"assetdedup_uploads_total{outcome="added_provider"} 0"#))
        #expect(text.contains("assetdedup_worker_threads_busy 1\n"), "the scrape itself is in flight")
        #expect(text.contains("assetdedup_db_busy_total 0\n"))
        #expect(text.hasSuffix("\n"))
    }

    @Test func busyAnswersAreCounted() {
        let metrics = Metrics(routes: ["/a", "other"], serveThreads: 4)
        metrics.finished(route: 0, status: 503, since: metrics.started())
        metrics.finished(route: 1, status: 299, since: metrics.started())
        #expect(metrics.busyAnswers == 1)
        #expect(metrics.requestCount(route: 1, status: 299) == 1, "an unlisted status counts as other")
        let text = metrics.render(queue: [])
        #expect(text.contains(#"assetdedup_http_requests_total{route="other",code="other"} 1"#))
        #expect(text.contains("assetdedup_worker_threads 4\n"))
    }
}

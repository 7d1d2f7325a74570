"""`GET /api/v1/metrics` on the real stack: parsed as Prometheus text, admins only, and the
counters move by exactly what the test did between two scrapes."""
import hashlib
import os

from prometheus_client.parser import text_string_to_metric_families

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def scrape(stack, token):
    r = stack.api("GET", "/api/v1/metrics", token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == CONTENT_TYPE
    samples = {}
    types = {}
    for family in text_string_to_metric_families(r.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def requests_total(samples, route, code):
    return value(samples, "assetdedup_http_requests_total", route=route, code=str(code))


def test_metrics_need_an_admin_token(stack):
    user = stack.add_user("alice")
    r = stack.api("GET", "/api/v1/metrics")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = stack.api("GET", "/api/v1/metrics", user)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert r.headers["Content-Type"].startswith("application/json")


def test_counters_move_by_exactly_what_was_done(stack):
    admin = stack.add_user("root", admin=True)
    user = stack.add_user("alice")
    before, types = scrape(stack, admin)
    assert types["assetdedup_http_requests"] == "counter"
    assert types["assetdedup_http_request_duration_seconds"] == "histogram"
    assert types["assetdedup_delivery_queue"] == "gauge"

    content = os.urandom(100_000)
    check = {"sha256": hashlib.sha256(content).hexdigest()}
    assert stack.api("POST", "/api/v1/assets/check-by-hash", user, json=check).status_code == 200
    assert stack.api("POST", "/api/v1/assets/check-by-hash", user, json={"sha256": "xyz"}).status_code == 400
    r = stack.upload(user, content)
    assert r.status_code == 201 and r.json()["status"] == "created", r.text
    asset_id = r.json()["asset_id"]
    r = stack.upload(user, content)
    assert r.status_code == 200 and r.json()["status"] == "reused", r.text
    assert stack.api("GET", f"/api/v1/assets/{asset_id}", user).status_code == 200
    assert stack.api("GET", "/api/v1/assets/999999", user).status_code == 404

    after, _ = scrape(stack, admin)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    def requests_moved(route, code):
        return requests_total(after, route, code) - requests_total(before, route, code)

    assert requests_moved("/assets/check-by-hash", 200) == 1
    assert requests_moved("/assets/check-by-hash", 400) == 1
    assert requests_moved("/assets/upload", 201) == 1
    assert requests_moved("/assets/upload", 200) == 1
    # Routes are patterns, never raw ids.
    assert requests_moved("/assets/{id}", 200) == 1
    assert requests_moved("/assets/{id}", 404) == 1
    assert not any(labels and str(asset_id) in dict(labels).get("route", "") for _, labels in after)
    # The first scrape is counted in the second; a scrape does not count itself.
    assert requests_moved("/metrics", 200) == 1

    # The histogram moved with the counters: _count and +Inf agree, buckets are cumulative.
    hist = "assetdedup_http_request_duration_seconds"
    assert moved(hist + "_count", route="/assets/check-by-hash") == 2
    assert moved(hist + "_bucket", route="/assets/check-by-hash", le="+Inf") == 2
    assert moved(hist + "_sum", route="/assets/check-by-hash") > 0
    buckets = sorted(
        (float(dict(labels)["le"]), v) for (name, labels), v in after.items()
        if name == hist + "_bucket" and dict(labels)["route"] == "/assets/upload")
    assert buckets[-1][0] == float("inf") and buckets[-1][1] == value(after, hist + "_count", route="/assets/upload")
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))

    assert moved("assetdedup_uploads_total", outcome="created") == 1
    assert moved("assetdedup_uploads_total", outcome="reused") == 1
    assert moved("assetdedup_uploads_total", outcome="added_provider") == 0
    assert moved("assetdedup_uploads_total", outcome="queued") == 0
    assert moved("assetdedup_upload_bytes_total") == 2 * len(content)
    assert moved("assetdedup_deliveries_total", provider="pixverse", outcome="ok") == 1
    assert moved("assetdedup_deliveries_total", provider="pixverse", outcome="failed") == 0
    assert moved("assetdedup_deliveries_total", provider="pixverse", outcome="retry") == 0
    assert value(after, "assetdedup_delivery_queue", state="delivered") == 1
    assert value(after, "assetdedup_delivery_queue", state="queued") == 0
    assert moved("assetdedup_db_busy_total") == 0
    # The scrape itself is the one request in flight; the stack runs 4 request threads.
    assert value(after, "assetdedup_worker_threads_busy") == 1
    assert value(after, "assetdedup_worker_threads") == stack.threads

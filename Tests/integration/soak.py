"""A bounded soak on a running Stack: wrk hammers check-by-hash (rotating users and hashes)
while Python threads upload from many users (new content, same-user repeats, other users'
content, other providers, the same file twice at once). Afterwards every acknowledged upload is
checked against the database. Used by scripts/soak (minutes) and test_load.py (seconds)."""
import collections
import hashlib
import json
import random
import re
import subprocess
import tempfile
import threading
import time

import requests

WRK_SCRIPT = r"""
local tokens = {%(tokens)s}
local hashes = {%(hashes)s}
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(id * 7919)
  server_errors = 0
  not_ok = 0
end
function request()
  local t = tokens[math.random(#tokens)]
  local h = hashes[math.random(#hashes)]
  return wrk.format("POST", "/api/v1/assets/check-by-hash",
    {["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json"},
    '{"sha256":"' .. h .. '"}')
end
function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
  if status ~= 200 then not_ok = not_ok + 1 end
end
function done(summary, latency, requests)
  local s, n = 0, 0
  for _, t in ipairs(threads) do s = s + t:get("server_errors"); n = n + t:get("not_ok") end
  io.write(string.format("SOAK requests=%%d server_errors=%%d not_ok=%%d socket_errors=%%d p50_us=%%d p99_us=%%d max_us=%%d\n",
    summary.requests, s, n, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def sha(data):
    return hashlib.sha256(data).hexdigest()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_soak(stack, seconds, users=20, upload_threads=6, wrk_connections=16, seed=1, log=print):
    """Runs the soak for `seconds` and returns its figures; raises nothing on bad figures (the
    caller decides), but checks every acknowledged upload against the database."""
    rng = random.Random(seed)
    tokens = [stack.add_user(f"soak{i:02d}") for i in range(users)]
    # Seed every user with a few assets so checks hit both present and absent hashes.
    known = collections.defaultdict(list)  # user index -> contents uploaded
    hashes = []
    for i, token in enumerate(tokens):
        for _ in range(3):
            content = rng.randbytes(rng.randrange(1, 20_000))
            r = stack.upload(token, content, "pixverse")
            assert r.status_code == 201, r.text
            known[i].append(content)
            hashes.append(sha(content))
    hashes += [sha(rng.randbytes(16)) for _ in range(len(hashes))]
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(WRK_SCRIPT % {"tokens": ",".join(f'"{t}"' for t in tokens),
                               "hashes": ",".join(f'"{h}"' for h in hashes)})
    script.close()

    rss_start = rss_kib(stack.app.pid)
    rss_samples = [rss_start]
    stop = threading.Event()
    acknowledged = []  # (user index, asset id, sha256, status)
    failures = collections.Counter()
    lock = threading.Lock()
    shared_pool = [rng.randbytes(rng.randrange(1, 200_000)) for _ in range(30)]

    def uploader(worker):
        local = random.Random(seed * 1000 + worker)
        session = requests.Session()
        while not stop.is_set():
            who = local.randrange(users)
            roll = local.random()
            if roll < 0.4:
                content = local.randbytes(local.randrange(1, 300_000))  # new content
            elif roll < 0.7:
                content = local.choice(shared_pool)  # content other users hold too
            else:
                with lock:
                    content = local.choice(known[who])  # this user's own again
            provider = local.choice(["pixverse", "runway"])
            try:
                r = session.post(stack.base_url + "/api/v1/assets/upload",
                                 headers={"Authorization": f"Bearer {tokens[who]}"},
                                 data={"provider_id": provider, "sha256": sha(content)},
                                 files={"file": ("f.bin", content)}, timeout=60)
            except requests.RequestException as error:
                with lock:
                    failures[type(error).__name__] += 1
                continue
            with lock:
                if r.status_code in (200, 201, 202):
                    body = r.json()
                    acknowledged.append((who, body["asset_id"], body["sha256"], r.status_code))
                    # 202: kept and queued for delivery (the wait for it was not admitted or ran out).
                    on_provider = provider in body["uploaded_to_providers"] or body["status"] == "queued"
                    if body["sha256"] != sha(content) or not on_provider:
                        failures["wrong answer"] += 1
                    known[who].append(content)
                else:
                    failures[r.status_code] += 1

    def sampler():
        while not stop.wait(5):
            rss_samples.append(rss_kib(stack.app.pid))

    workers = [threading.Thread(target=uploader, args=(w,)) for w in range(upload_threads)]
    workers.append(threading.Thread(target=sampler))
    for w in workers:
        w.start()
    started = time.monotonic()
    try:
        wrk = subprocess.run(["wrk", "-t2", f"-c{wrk_connections}", f"-d{seconds}s", "--timeout", "10s",
                              "-s", script.name, stack.base_url + "/"],
                             capture_output=True, text=True, timeout=seconds + 60)
    finally:
        stop.set()
        for w in workers:
            w.join(120)
    elapsed = time.monotonic() - started
    match = re.search(r"SOAK (.*)", wrk.stdout)
    assert match, wrk.stdout + wrk.stderr
    checks = {k: int(v) for k, v in (kv.split("=") for kv in match.group(1).split())}
    rss_end = rss_kib(stack.app.pid)

    # Every acknowledged upload is in the database, for its user, with its hash, and each
    # (user, sha256) has one row and one asset id in every answer.
    user_ids = {int(name[4:]): uid for uid, name in stack.sql("SELECT id, name FROM users WHERE name LIKE 'soak%'")}
    ids_by_key = collections.defaultdict(set)
    for who, asset_id, digest, _ in acknowledged:
        ids_by_key[(user_ids[who], digest)].add(asset_id)
    rows = {r[0]: (r[1], r[2]) for r in stack.sql("SELECT id, user_id, sha256 FROM assets")}
    lost = [(k, ids) for k, ids in ids_by_key.items() if len(ids) != 1 or rows.get(next(iter(ids))) != k]
    duplicated = stack.sql("SELECT user_id, sha256, count(*) FROM assets GROUP BY user_id, sha256 HAVING count(*) > 1")
    # Deliveries still queued when the load stopped finish first (bounded: they are local copies).
    drain_deadline = time.monotonic() + 60
    while (stack.sql("SELECT count(*) FROM deliveries WHERE state IN ('queued', 'delivering')")[0][0]
           and time.monotonic() < drain_deadline):
        time.sleep(0.1)
    missing_uploads = stack.sql(
        "SELECT count(*) FROM assets a WHERE NOT EXISTS (SELECT 1 FROM provider_uploads p WHERE p.asset_id = a.id)")[0][0]
    figures = {
        "seconds": round(elapsed, 1),
        "check_requests": checks["requests"],
        "check_rps": round(checks["requests"] / seconds),
        "check_5xx": checks["server_errors"],
        "check_not_200": checks["not_ok"],
        "check_socket_errors": checks["socket_errors"],
        "check_p50_ms": checks["p50_us"] / 1000,
        "check_p99_ms": checks["p99_us"] / 1000,
        "check_max_ms": checks["max_us"] / 1000,
        "uploads_ok": len(acknowledged),
        "uploads_created": sum(1 for a in acknowledged if a[3] == 201),
        "uploads_queued_202": sum(1 for a in acknowledged if a[3] == 202),
        "upload_failures": dict(failures),
        "upload_5xx": sum(v for k, v in failures.items() if isinstance(k, int) and k >= 500),
        "rows": len(rows),
        "keys_checked": len(ids_by_key),
        "lost_or_inconsistent": len(lost),
        "duplicated_rows": len(duplicated),
        "assets_without_provider_upload": missing_uploads,
        "users": len(user_ids),
        "rss_start_mib": round(rss_start / 1024, 1),
        "rss_end_mib": round(rss_end / 1024, 1),
        "rss_max_mib": round(max(rss_samples + [rss_end]) / 1024, 1),
        "rss_every_minute_mib": [round(v / 1024, 1) for v in rss_samples[::12]],
        "integrity": "ok" if not stack.db.integrity_problems() else "FAILED",
        "temp_files": len(stack.temp_files()),
    }
    log(json.dumps(figures, indent=1))
    return figures


def assert_soak_clean(figures):
    assert figures["check_5xx"] == 0 and figures["check_not_200"] == 0 and figures["check_socket_errors"] == 0
    assert figures["upload_5xx"] == 0 and figures["upload_failures"] == {}
    assert figures["lost_or_inconsistent"] == 0 and figures["duplicated_rows"] == 0
    assert figures["assets_without_provider_upload"] == 0
    assert figures["integrity"] == "ok" and figures["temp_files"] == 0
    assert figures["uploads_ok"] > 0 and figures["check_requests"] > 0

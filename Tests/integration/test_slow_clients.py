"""Slow and broken client links through the real nginx: a client trickling an upload body holds
an nginx connection, never one of the app's threads (nginx buffers upload bodies to a file and
the app reads it by path), and an abandoned upload leaves nothing anywhere."""
import asyncio
import hashlib
import os
import socket
import threading
import time

from conftest import wait_until

BOUNDARY = "slowclientboundary"


def multipart(content, provider="pixverse", filename="slow.bin"):
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n\r\n{provider}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def request_head(token, length, path="/api/v1/assets/upload", extra=""):
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n"
            f"{extra}Connection: close\r\n\r\n").encode()


async def trickle_upload(port, token, body, started, release, chunk=1024, pace=0.05):
    """Sends the body a chunk at a time (~20 KB/s) until `release`, then the rest; returns the
    status line's code."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_head(token, len(body)))
    sent = 0
    first = True
    # Keep the last bytes back until released, so every upload is mid-body while others work.
    while sent < len(body) - 1:
        if release.is_set():
            writer.write(body[sent:])
            sent = len(body)
            break
        piece = body[sent:min(sent + chunk, len(body) - 1)]
        writer.write(piece)
        await writer.drain()
        sent += len(piece)
        if first:
            started()
            first = False
        await asyncio.sleep(pace)  # pacing the trickle, not waiting for anything
    if sent < len(body):
        await release.wait()
        writer.write(body[sent:])
    await writer.drain()
    status = await reader.readline()
    await reader.read()
    writer.close()
    return int(status.split()[1])


def uploads_answered(stack, admin):
    """How many upload requests the app has answered (its metrics: requests by route)."""
    from test_metrics import scrape

    samples, _ = scrape(stack, admin)
    return sum(v for (name, labels), v in samples.items()
               if name == "assetdedup_http_request_duration_seconds_count" and "upload" in dict(labels)["route"])


def test_trickling_uploads_do_not_hold_app_threads(make_stack):
    """200 uploads trickling through nginx into an app with 4 threads: another user's 100 checks
    and a fast upload are all answered while every one of the 200 is still mid-body (each keeps
    its last byte back until then), the app has been handed none of them by that point, and
    then all 200 complete with one asset each. Shown by order, not by time: if a trickle held
    an app thread, the checks could not all be answered before the trickles are released."""
    stack = make_stack(threads=4)
    alice = stack.add_user("alice")
    bob = stack.add_user("bob")
    admin = stack.add_user("admin", admin=True)
    uploads = 200
    bodies = [multipart(os.urandom(24 << 10)) for _ in range(uploads)]
    check_body = {"sha256": "ab" * 32, "provider_id": "pixverse"}
    results = {}

    async def scenario():
        loop = asyncio.get_running_loop()
        release = asyncio.Event()
        count = 0
        all_started = asyncio.Event()

        def started():
            nonlocal count
            count += 1
            if count == uploads:
                all_started.set()

        tasks = [asyncio.create_task(trickle_upload(stack.port, alice, b, started, release)) for b in bodies]
        await asyncio.wait_for(all_started.wait(), 120)

        def checks_and_a_fast_upload():
            latencies, statuses = [], []
            for _ in range(100):
                t = time.monotonic()
                # timeout: only so that a check stuck behind the trickles fails instead of hanging.
                r = stack.api("POST", "/api/v1/assets/check-by-hash", bob, json=check_body, timeout=60)
                latencies.append(time.monotonic() - t)
                statuses.append(r.status_code)
            fast = os.urandom(32 << 20)
            r = stack.upload(bob, fast, filename="fast.bin")
            return (latencies, statuses, r.status_code, r.json(), hashlib.sha256(fast).hexdigest(),
                    uploads_answered(stack, admin))

        results["checks"] = await loop.run_in_executor(None, checks_and_a_fast_upload)
        # Every trickle was still mid-body during all of the above (none can finish before release).
        results["pending"] = sum(not t.done() for t in tasks)
        release.set()
        results["statuses"] = await asyncio.wait_for(asyncio.gather(*tasks), 300)

    asyncio.run(scenario())
    latencies, statuses, fast_status, fast_json, fast_sha, answered = results["checks"]
    # Figures for the log only; what is asserted is the order of events.
    print(f"checks during {uploads} trickling uploads: max {max(latencies) * 1000:.1f} ms,"
          f" median {sorted(latencies)[len(latencies) // 2] * 1000:.1f} ms")
    assert results["pending"] == uploads
    assert statuses == [200] * 100
    # Only the fast upload has reached the app: nginx holds every trickling one until it is whole.
    assert answered == 1
    # 202: stored, its push to the provider queued (when half the app's threads already wait on
    # deliveries, an upload answers at once instead of waiting).
    assert fast_status in (201, 202) and fast_json["sha256"] == fast_sha
    assert set(results["statuses"]) <= {201, 202} and len(results["statuses"]) == uploads
    assert stack.sql("SELECT count(*) FROM assets WHERE user_id = (SELECT id FROM users WHERE name='alice')")[0][0] == uploads
    wait_until(lambda: not stack.body_files(), what="nginx to delete its body files")
    assert stack.temp_files() == []


def test_a_wrong_token_is_refused_before_the_body_is_sent(stack):
    """nginx asks the app about the token first: a client that waits for `100 Continue` learns of
    the 401 without sending the file."""
    with socket.create_connection(("127.0.0.1", stack.port)) as s:
        s.sendall(request_head("adt_wrong", 500 << 20, extra="Expect: 100-continue\r\n"))
        s.settimeout(30)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401"), head
    assert b'"code":"unauthorized"' in body
    assert stack.body_files() == []

#!/usr/bin/env python3
"""Times one plain multipart upload of FILE against one resumable upload (create + PATCH appends
of --append-mib each) of SECOND_FILE through a running stack; prints both MB/s and the ratio.
The two files must differ (else the second is a dedup hit); without SECOND_FILE the script
writes a copy of FILE with its first byte changed. Not a test: read the ratio.

usage: scripts/bench_resumable.py URL TOKEN FILE [SECOND_FILE] [--append-mib 64] [--provider P]
"""
import argparse
import http.client
import os
import sys
import tempfile
import time
import urllib.parse
import uuid

CHUNK = 1 << 20


def connect(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=3600)


def stream(conn, handle, count):
    """Sends `count` bytes of `handle` on the open request without holding them in memory."""
    while count > 0:
        data = handle.read(min(CHUNK, count))
        if not data:
            sys.exit("bench_resumable: file ended early")
        conn.send(data)
        count -= len(data)


def multipart(url, token, path, provider):
    size = os.path.getsize(path)
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n\r\n{provider}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    conn = connect(url)
    start = time.perf_counter()
    conn.putrequest("POST", "/api/v1/assets/upload")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    conn.send(head)
    with open(path, "rb") as handle:
        stream(conn, handle, size)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    if response.status not in (200, 201):
        sys.exit(f"bench_resumable: multipart upload answered {response.status}: {body[:300]!r}")
    return elapsed


def resumable(url, token, path, provider, append_bytes):
    size = os.path.getsize(path)
    conn = connect(url)
    start = time.perf_counter()
    appends = []
    with open(path, "rb") as handle:
        first = min(append_bytes, size)
        conn.putrequest("POST", f"/api/v1/uploads?provider_id={provider}&filename=bench.bin")
        for name, value in [("Authorization", f"Bearer {token}"), ("Upload-Complete", "?1" if first == size else "?0"),
                            ("Upload-Length", str(size)), ("Content-Length", str(first))]:
            conn.putheader(name, value)
        conn.endheaders()
        stream(conn, handle, first)
        response = conn.getresponse()
        response.read()
        if response.status not in (200, 201):
            sys.exit(f"bench_resumable: creation answered {response.status}")
        location = response.getheader("Location")
        offset = first
        while offset < size:
            count = min(append_bytes, size - offset)
            complete = offset + count == size
            append_start = time.perf_counter()
            conn.putrequest("PATCH", location)
            for name, value in [("Authorization", f"Bearer {token}"), ("Content-Type", "application/partial-upload"),
                                ("Upload-Offset", str(offset)), ("Upload-Complete", "?1" if complete else "?0"),
                                ("Content-Length", str(count))]:
                conn.putheader(name, value)
            conn.endheaders()
            stream(conn, handle, count)
            response = conn.getresponse()
            body = response.read()
            if response.status not in (200, 201, 204):
                sys.exit(f"bench_resumable: append at {offset} answered {response.status}: {body[:300]!r}")
            appends.append(time.perf_counter() - append_start)
            offset += count
    total = time.perf_counter() - start
    # Completion's own cost: the last append against a typical one of the same size.
    earlier = sorted(appends[:-1]) or [0.0]
    return total, (appends[-1] if appends else 0.0), earlier[len(earlier) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("file")
    parser.add_argument("second_file", nargs="?")
    parser.add_argument("--append-mib", type=int, default=64)
    parser.add_argument("--provider", default="pixverse")
    args = parser.parse_args()
    second = args.second_file
    made = None
    if second is None:
        # Same size, different content: flip the first byte of a copy.
        made = tempfile.NamedTemporaryFile(delete=False, dir=os.path.dirname(os.path.abspath(args.file)))
        with open(args.file, "rb") as source:
            first = source.read(1)
            made.write(bytes([first[0] ^ 0xFF]) if first else b"\0")
            while data := source.read(CHUNK * 8):
                made.write(data)
        made.close()
        second = made.name
    try:
        size = os.path.getsize(args.file)
        plain = multipart(args.url, args.token, args.file, args.provider)
        total, last, typical = resumable(args.url, args.token, second, args.provider, args.append_mib << 20)
        mb = size / 1e6
        print(f"multipart upload : {size} bytes in {plain:.2f} s = {mb / plain:.1f} MB/s")
        print(f"resumable upload : {size} bytes in {total:.2f} s = {mb / total:.1f} MB/s "
              f"({args.append_mib} MiB appends; median append {typical:.2f} s, last one with completion {last:.2f} s)")
        print(f"ratio resumable/multipart throughput: {plain / total:.2f}")
    finally:
        if made:
            os.unlink(made.name)


if __name__ == "__main__":
    main()

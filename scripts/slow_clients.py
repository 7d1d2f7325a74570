"""Slow uploaders for scripts/bench: N clients each trickling a multipart upload at a fixed rate
through nginx, in a background thread, while the caller measures something else."""
import asyncio
import os
import threading
import time

BOUNDARY = "benchslowclient"


def _body(size):
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"provider_id\"\r\n\r\npixverse\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + os.urandom(size) + f"\r\n--{BOUNDARY}--\r\n".encode()


async def _trickle(port, token, body, rate, deadline):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((f"POST /api/v1/assets/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n"
                  "Connection: close\r\n\r\n").encode())
    step = max(1, rate // 10)
    sent = 0
    while sent < len(body):
        # Hold the last bytes until the measured window is over: every upload stays mid-body.
        end = min(sent + step, len(body) - 1) if time.monotonic() < deadline else len(body)
        if end > sent:
            writer.write(body[sent:end])
            await writer.drain()
            sent = end
        await asyncio.sleep(0.1)
    status = await reader.readline()
    await reader.read()
    writer.close()
    return int(status.split()[1]) if status else 0


class SlowUploads:
    """Starts `count` uploads of `size` bytes each at `rate` bytes/s; `finish()` lets them end
    and returns their status codes."""

    def __init__(self, port, token, count=200, size=1 << 20, rate=50_000, seconds=10):
        self.deadline = time.monotonic() + seconds
        self.bodies = [_body(size) for _ in range(count)]
        self.args = (port, token, rate)
        self.statuses = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        port, token, rate = self.args

        async def all_uploads():
            return await asyncio.gather(
                *(_trickle(port, token, b, rate, self.deadline) for b in self.bodies), return_exceptions=True)

        self.statuses = asyncio.run(all_uploads())

    def finish(self, timeout=600):
        self.thread.join(timeout)
        return self.statuses

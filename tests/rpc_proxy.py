"""A real JSON-RPC proxy on loopback in front of Anvil: counts HTTP round trips, refuses eth_getLogs ranges
wider than a limit (the way hosted providers do), fails every k-th request with HTTP 503, and injects
faults per method: `faults(method, n)` (n counts that method's calls from 1) may answer

- `"http-500"`: an HTTP 500, the call not forwarded;
- `"garbage"`: a 200 whose body is not JSON, the call not forwarded;
- `"lost-reply"`: the call forwarded (a transaction does leave), then an HTTP 503 instead of its answer;
- `"reset-after-forward"`: the call forwarded, then the connection reset (RST) with no answer at all;
- `"reset-before-forward"`: the connection reset, nothing forwarded;
- `"garbage-after-forward"`: the call forwarded, then a 200 whose body is not JSON;
- `"stall"`: the call forwarded, then nothing for `stall_s` seconds, then the connection reset;
- `"rpc-error"`: a JSON-RPC error answering every call of the request (as a node refusing a block tag
  answers), nothing forwarded.

Connections are kept alive (HTTP/1.1), as a hosted node's are, so a client reuses them between calls."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class ProxyStats:
    round_trips: int = 0
    refused_ranges: int = 0
    failed: int = 0
    methods: list[str] = field(default_factory=list)


@contextmanager
def rpc_proxy(
    upstream: str,
    *,
    max_log_range: int | None = None,
    fail_every: int | None = None,
    faults: Callable[[str, int], str | None] | None = None,
    stall_s: float = 3.0,
) -> Iterator[tuple[str, ProxyStats]]:
    stats = ProxyStats()
    seen: dict[str, int] = {}
    lock = threading.Lock()
    client = httpx.Client(timeout=30)

    def head() -> int:
        reply = client.post(
            upstream, json={"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []}
        ).json()
        return int(reply["result"], 16)

    def refuse(call: dict[str, Any]) -> dict[str, Any] | None:
        if max_log_range is None or call.get("method") != "eth_getLogs":
            return None
        params = call["params"][0]
        latest = None

        def block(tag: str) -> int:
            nonlocal latest
            if tag in ("latest", "pending", "safe", "finalized"):
                latest = latest if latest is not None else head()
                return latest
            return 0 if tag == "earliest" else int(tag, 16)

        span = block(params.get("toBlock", "latest")) - block(params.get("fromBlock", "latest")) + 1
        if span <= max_log_range:
            return None
        stats.refused_ranges += 1
        return {
            "jsonrpc": "2.0",
            "id": call.get("id"),
            "error": {"code": -32005, "message": f"query exceeds max block range {max_log_range}"},
        }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: object) -> None:
            pass

        def _reset(self) -> None:
            """Drop the connection with a TCP reset, answering nothing."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def finish(self) -> None:
            with contextlib.suppress(OSError):  # the connection was reset on purpose
                super().finish()

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                stats.round_trips += 1
                number = stats.round_trips
            request = json.loads(raw)
            calls = request if isinstance(request, list) else [request]
            stats.methods.extend(c.get("method", "?") for c in calls)
            fault = None
            with lock:
                for call in calls:
                    method = str(call.get("method", "?"))
                    seen[method] = seen.get(method, 0) + 1
                    fault = fault or (faults(method, seen[method]) if faults is not None else None)
            if fault is not None:
                stats.failed += 1
                if fault == "lost-reply":
                    client.post(upstream, json=request)
                    self._reply(503, b"upstream timed out")
                elif fault == "reset-after-forward":
                    client.post(upstream, json=request)
                    self._reset()
                elif fault == "reset-before-forward":
                    self._reset()
                elif fault == "garbage-after-forward":
                    client.post(upstream, json=request)
                    self._reply(200, b'{"jsonrpc": "2.0", "id": 1, "result": ')
                elif fault == "stall":
                    client.post(upstream, json=request)
                    time.sleep(stall_s)
                    self._reset()
                elif fault == "garbage":
                    self._reply(200, b"<html>bad gateway</html>")
                elif fault == "rpc-error":
                    errors = [
                        {"jsonrpc": "2.0", "id": c.get("id"), "error": {"code": -32602, "message": "unknown block"}}
                        for c in calls
                    ]
                    self._reply(200, json.dumps(errors if isinstance(request, list) else errors[0]).encode())
                else:
                    self._reply(500, b"internal error")
                return
            if fail_every and number % fail_every == 0:
                stats.failed += 1
                self._reply(503, b"upstream overloaded")
                return
            answers: list[dict[str, Any] | None] = [refuse(c) for c in calls]
            forward = [c for c, a in zip(calls, answers, strict=True) if a is None]
            if forward:
                replies = client.post(upstream, json=forward).json()
                by_id = {r.get("id"): r for r in (replies if isinstance(replies, list) else [replies])}
                answers = [a if a is not None else by_id.get(c.get("id")) for c, a in zip(calls, answers, strict=True)]
            body = answers if isinstance(request, list) else answers[0]
            self._reply(200, json.dumps(body).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", stats
    finally:
        server.shutdown()
        server.server_close()
        client.close()

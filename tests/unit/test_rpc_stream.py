"""`RpcClient.stream_result`: a reply's result items parsed as they arrive, errors raised as `call` raises
them, and a reply cut short never poisons the next request on the connection."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from omareview.eas.rpc import RpcClient, RpcError
from omareview.errors import ChainError

LOGS = [{"address": "0xab", "topics": ["0x1", "0x2"], "data": "0x", "blockNumber": hex(n)} for n in range(5)]
REPLIES: dict[str, tuple[int, bytes, int | None]] = {
    "logs": (200, json.dumps({"jsonrpc": "2.0", "id": 1, "result": LOGS}).encode(), None),
    "empty": (200, b'{"jsonrpc":"2.0","id":1,"result":[]}', None),
    "error": (
        200,
        b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"query returned more than 10000 results"}}',
        None,
    ),
    "cut": (200, json.dumps({"jsonrpc": "2.0", "id": 1, "result": LOGS}).encode()[:90], 4000),
    "down": (503, b"upstream unavailable", None),
    "no-result": (200, b'{"jsonrpc":"2.0","id":1}', None),
    "head": (200, b'{"jsonrpc":"2.0","id":1,"result":"0x10"}', None),
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_: object) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, body, claimed = REPLIES[request["method"]]
        self.send_response(status)
        self.send_header("Content-Length", str(claimed or len(body)))
        self.end_headers()
        self.wfile.write(body)
        if claimed:
            self.close_connection = True


@contextmanager
def _node() -> Iterator[RpcClient]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RpcClient(f"http://127.0.0.1:{server.server_address[1]}", timeout_s=5)
    finally:
        server.shutdown()


def test_items_stream_in_order_and_the_connection_is_reused() -> None:
    with _node() as rpc:
        assert list(rpc.stream_result("logs")) == LOGS
        assert list(rpc.stream_result("empty")) == []
        assert list(rpc.stream_result("logs")) == LOGS
        assert rpc.requests_sent == 3


@pytest.mark.parametrize(
    ("method", "error", "match"),
    [
        ("error", RpcError, "more than 10000 results"),
        ("cut", ChainError, "cannot reach the node|did not answer JSON-RPC"),
        ("down", ChainError, "HTTP 503"),
        ("no-result", ChainError, "no result"),
    ],
)
def test_failures_raise_and_leave_the_client_usable(method: str, error: type[Exception], match: str) -> None:
    with _node() as rpc:
        with pytest.raises(error, match=match):
            list(rpc.stream_result(method))
        assert list(rpc.stream_result("logs")) == LOGS


def test_a_reader_that_stops_early_closes_the_connection() -> None:
    with _node() as rpc:
        items = rpc.stream_result("logs")
        assert next(items) == LOGS[0]
        items.close()
        assert list(rpc.stream_result("logs")) == LOGS


def test_the_reader_may_call_the_node_between_items() -> None:
    with _node() as rpc:
        seen, heads = [], []
        for item in rpc.stream_result("logs"):
            seen.append(item)
            heads.append(rpc.call("head"))
        assert seen == LOGS and heads == ["0x10"] * len(LOGS)

"""A small JSON-RPC client over the standard library's `http.client`: single calls and batches, with errors
mapped to ChainError.

Reverts come back as `RpcError` carrying the revert data, so callers can decode EAS's custom errors. One
keep-alive connection per thread; a read on a connection the node closed while it was idle is sent once
more on a fresh one. A call that may act (`eth_sendRawTransaction`) is never resent here: the request may
have reached the node before the connection broke, and only the sender, which knows the transaction's hash,
can settle what became of it (`omareview.eas._tx`). Messages name the node by scheme and host only: a URL's
user, password, path and query often carry an API key. The standard
library rather than httpx: every command that talks to a node imports this module, and httpx costs about
100 ms to import where `http.client` costs a few. Even those few (with `ssl`, `certifi` and `ijson`, about
25 ms) are paid at the first request, not at import: a command that reads only its local index makes none.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from omareview.errors import ChainError, ConfigError

if TYPE_CHECKING:
    import http.client

__all__ = ["DEFAULT_TIMEOUT_S", "UNSAFE_TO_RESEND", "RpcClient", "RpcError", "display_url"]

DEFAULT_TIMEOUT_S = 30.0
#: Methods whose request may have acted even when its answer was lost: the transport never resends them.
UNSAFE_TO_RESEND = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})


def display_url(url: str) -> str:
    """`url` as it may be shown to anyone: scheme, host and port, without credentials, path or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(an unreadable URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}" if parts.scheme and host else "(an unreadable URL)"


class RpcError(ChainError):
    """The node answered with a JSON-RPC error; `data` holds revert data when there is any."""

    default_reason = "rpc-error"

    def __init__(self, method: str, code: int, message: str, data: str | None) -> None:
        super().__init__(f"{method} failed: {message} (code {code})")
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data


def _revert_data(error: dict[str, Any]) -> str | None:
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data") or data.get("result")
    return data if isinstance(data, str) and data.startswith("0x") else None


class RpcClient:
    """JSON-RPC to one endpoint. Thread-safe: each thread keeps its own keep-alive connection.

    Parameters:
        url: the node's `http://` or `https://` URL (HTTPS verified against certifi's CA bundle; anything
            else fails at the first request).
        timeout_s: how long one request may wait on the network.
    """

    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.url = url
        self.shown = display_url(url)
        parts = urlsplit(url)
        self._usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **_basic_auth(parts.username, parts.password),
        }
        self._timeout = timeout_s
        self._local = threading.local()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.requests_sent = 0

    def close(self) -> None:
        """Close this thread's connections."""
        self._drop("connection")
        self._drop("stream")

    def _drop(self, slot: str) -> None:
        connection = getattr(self._local, slot, None)
        if connection is not None:
            connection.close()
            setattr(self._local, slot, None)

    def _connection(self, slot: str = "connection") -> http.client.HTTPConnection:
        """This thread's keep-alive connection in `slot`: `connection` for whole replies, `stream` for a reply
        read while its reader makes other calls (they must not share a connection)."""
        import http.client

        connection: http.client.HTTPConnection | None = getattr(self._local, slot, None)
        if connection is None:
            if self._https:
                import ssl

                import certifi

                context = ssl.create_default_context(cafile=certifi.where())
                connection = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout, context=context)
            else:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            setattr(self._local, slot, connection)
        return connection

    def _send(
        self, payload: bytes, slot: str, *, whole: bool, resend: bool = True
    ) -> tuple[http.client.HTTPResponse, bytes | None]:
        """POST `payload` on this thread's connection in `slot`: the response, and its body when `whole`
        (else it is left for the caller to read). A request on a connection the node closed while it was
        idle is sent once more on a fresh one when `resend` allows (the node may have acted on it)."""
        import http.client

        stale = (http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError, ConnectionResetError)
        for attempt in range(2):
            connection = self._connection(slot)
            reused = connection.sock is not None
            try:
                connection.request("POST", self._path, body=payload, headers=self._headers)
                response = connection.getresponse()
                return response, response.read() if whole else None
            except stale:
                self._drop(slot)
                if not reused or attempt or not resend:
                    raise
            except BaseException:
                self._drop(slot)
                raise
        raise AssertionError("unreachable")

    def _exchange(self, payload: bytes, resend: bool) -> tuple[int, bytes]:
        response, content = self._send(payload, "connection", whole=True, resend=resend)
        return response.status, content or b""

    def _post(self, body: object, *, resend: bool = True) -> Any:
        import http.client

        self._count_request()
        try:
            status, content = self._exchange(json.dumps(body, separators=(",", ":")).encode(), resend)
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from exc
        self._check_status(status, content)
        try:
            return json.loads(content)
        except ValueError as exc:
            raise ChainError(f"the node at {self.shown} did not answer JSON-RPC", reason="rpc-failed") from exc

    def _count_request(self) -> None:
        with self._lock:
            self.requests_sent += 1
        if not self._usable:
            raise ChainError(f"cannot reach the node at {self.shown}: it is not an http(s) URL", reason="rpc-failed")

    def _unreachable(self, exc: BaseException) -> ChainError:
        return ChainError(f"cannot reach the node at {self.shown} ({_failure(exc)})", reason="rpc-failed")

    def _check_status(self, status: int, content: bytes) -> None:
        if status >= 400 and not content.lstrip().startswith((b"{", b"[")):
            raise ChainError(f"the node at {self.shown} answered HTTP {status}", reason="rpc-failed")

    def stream_result(self, method: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """The items of a call's array `result`, parsed from the response as it arrives (ijson), so a reply
        of any length costs the memory of one item: for `eth_getLogs` over a dense range. It has a
        connection of its own, so the reader may make other calls between items. An error reply raises as
        `call` does (before any item, since it carries none)."""
        import http.client

        import ijson

        self._count_request()
        body = json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)})
        done = False
        try:
            response, _ = self._send(body.encode(), "stream", whole=False)
            if response.status >= 400:
                content = response.read()
                self._check_status(response.status, content)
                yield from self._result(method, json.loads(content))
                done = True
                return
            error: dict[str, Any] = {}
            has_result = False
            builder: Any = None
            depth = 0
            for prefix, event, value in ijson.parse(response):
                if builder is not None:
                    builder.event(event, value)
                    depth += event in ("start_map", "start_array")
                    depth -= event in ("end_map", "end_array")
                    if depth == 0:
                        yield builder.value
                        builder = None
                elif prefix == "result.item":
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    depth = int(event in ("start_map", "start_array"))
                    if depth == 0:
                        yield builder.value
                        builder = None
                elif prefix == "result":
                    has_result = True
                elif prefix in ("error.code", "error.message") and event in ("number", "string"):
                    error[prefix.removeprefix("error.")] = value
                elif prefix == "error" and event == "string":
                    error["message"] = value
            done = True
            if error:
                self._result(method, {"error": error})
            if not has_result:
                raise ChainError(f"{method}: the JSON-RPC reply has no result", reason="rpc-failed")
        except (OSError, http.client.HTTPException) as exc:
            raise self._unreachable(exc) from exc
        except ijson.JSONError as exc:
            raise ChainError(f"the node at {self.shown} did not answer JSON-RPC", reason="rpc-failed") from exc
        finally:
            if not done:
                # A reply left half-read cannot carry the next request on this connection.
                self._drop("stream")

    @staticmethod
    def _result(method: str, reply: Any) -> Any:
        if not isinstance(reply, dict):
            raise ChainError(f"{method}: malformed JSON-RPC reply", reason="rpc-failed")
        error = reply.get("error")
        if error is not None:
            if not isinstance(error, dict):
                raise ChainError(f"{method} failed: {error}", reason="rpc-failed")
            raise RpcError(
                method,
                int(error.get("code", 0)),
                str(error.get("message", "")),
                _revert_data(error),
            )
        if "result" not in reply:
            raise ChainError(f"{method}: the JSON-RPC reply has no result", reason="rpc-failed")
        return reply["result"]

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        return self._result(method, self._post(body, resend=method not in UNSAFE_TO_RESEND))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several calls in one HTTP request; results in call order. Any failed call raises."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)} for i, (m, p) in zip(ids, calls, strict=True)
        ]
        replies = self._post(body, resend=not any(method in UNSAFE_TO_RESEND for method, _ in calls))
        if isinstance(replies, dict):
            self._result(calls[0][0], replies)
        if not isinstance(replies, list):
            raise ChainError("the node answered a batch request with something other than a list", reason="rpc-failed")
        by_id = {reply.get("id"): reply for reply in replies if isinstance(reply, dict)}
        missing = [method for i, (method, _) in zip(ids, calls, strict=True) if i not in by_id]
        if missing:
            raise ChainError(
                f"the node's batch reply lacks answers for {len(missing)} calls ({missing[0]}, …)", reason="rpc-failed"
            )
        return [self._result(method, by_id[i]) for i, (method, _) in zip(ids, calls, strict=True)]

    def check_deployment(self, eas_address: str, chain_id: int | None, network_name: str) -> int:
        """The node's chain id, after checking in one round trip that it is the network's chain and that
        EAS has code there (a wrong address would otherwise cost gas, or list nothing as if all were well)."""
        actual_hex, code = self.batch([("eth_chainId", []), ("eth_getCode", [eas_address, "latest"])])
        actual = int(actual_hex, 16)
        if chain_id is not None and actual != chain_id:
            raise ConfigError(
                f"the node at {self.shown} is chain {actual}, but network {network_name} is chain {chain_id}",
                reason="wrong-chain",
            )
        if not isinstance(code, str) or code in ("0x", "0x0", ""):
            raise ConfigError(f"no contract is deployed at {eas_address} on chain {actual}", reason="no-eas-here")
        return actual

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def next_block_time(self) -> int:
        """The chain's clock: the time the next block will carry (the pending block's timestamp; the latest
        block's where a node keeps no pending block). A new attestation carries this time, so any judgement
        made before writing takes this clock, never this machine's: a devnet whose clock was moved, or a
        node behind the wall clock, stays consistent with itself. (The latest block alone would lag on a
        chain that mines only when a transaction comes.)"""
        try:
            blocks = self.batch(
                [("eth_getBlockByNumber", ["latest", False]), ("eth_getBlockByNumber", ["pending", False])]
            )
        except RpcError:
            blocks = [self.call("eth_getBlockByNumber", ["latest", False])]
        times = [int(b["timestamp"], 16) for b in blocks if isinstance(b, dict) and _is_hex(b.get("timestamp"))]
        if not times:
            raise ChainError("the node's latest block has no timestamp", reason="rpc-failed")
        return max(times)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def eth_call(self, to: str, data: bytes, block: str = "latest") -> bytes:
        result = self.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, block])
        return bytes.fromhex(str(result).removeprefix("0x"))


def _is_hex(value: object) -> bool:
    return isinstance(value, str) and value.startswith("0x") and len(value) > 2


def _failure(exc: BaseException) -> str:
    """What went wrong on the wire, in words that carry no address or upstream text."""
    import socket

    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    return type(exc).__name__


def _basic_auth(user: str | None, password: str | None) -> dict[str, str]:
    """The Authorization header of credentials in the URL (some hosted nodes take them there)."""
    if user is None:
        return {}
    import base64
    from urllib.parse import unquote

    token = base64.b64encode(f"{unquote(user)}:{unquote(password or '')}".encode()).decode()
    return {"Authorization": f"Basic {token}"}

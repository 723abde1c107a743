"""The one HTTP primitive under omareview's fetchers: httpcore's own sockets under one total deadline (a
server that drips its answer a byte at a time is cut off at the deadline, not after a timeout per byte),
bounded decompression, and one mapping from httpcore's failures to omareview's errors.

`identity.fetch.SafeFetcher` adds the SSRF rules for a URL a program or a model chose; `fetch_user_url` here
is for a URL a person typed.
"""

from __future__ import annotations

import ssl
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import certifi
import httpcore

from omareview.errors import FetchFailedError, FetchRefusedError

__all__ = ["DeadlineBackend", "Inflater", "fetch_user_url", "mapped_errors"]


@contextmanager
def mapped_errors(url: str, timeout_s: float) -> Iterator[None]:
    """httpcore's failures, as the one error a failed fetch is: FetchFailedError (the deadline passed, the
    connection was refused, broken or spoke no HTTP)."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise FetchFailedError(f"{url} did not answer within {timeout_s:g} s") from exc
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, OSError) as exc:
        raise FetchFailedError(f"cannot reach {url} ({type(exc).__name__}: {exc})") from exc


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write is bounded by what is left of one deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _left(self, timeout: float | None) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the total time allowed for the fetch is over")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        upgraded = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout))
        return _DeadlineStream(upgraded, self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, each operation bounded by the remaining time of one total deadline."""

    def __init__(self, deadline: float) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the total time allowed for the fetch is over")
        stream = self._inner.connect_tcp(host, port, left if timeout is None else min(timeout, left), local_address)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: object = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Inflater:
    """Bounded decompression of a gzip or deflate body: never more than `limit` bytes come out."""

    def __init__(self, encoding: str, url: str, limit: int) -> None:
        self._url = url
        self._limit = limit
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._zlib = zlib.decompressobj(wbits=47)
        else:
            raise FetchRefusedError(f"{url} answered in an encoding omareview does not read ({encoding})")

    def feed(self, chunk: bytes) -> bytes:
        if self._zlib is None:
            return chunk
        try:
            out = self._zlib.decompress(chunk, self._limit + 1)
        except zlib.error as exc:
            raise FetchFailedError(f"{self._url} sent a corrupt compressed body") from exc
        if self._zlib.unconsumed_tail:
            raise FetchRefusedError(f"{self._url} inflates to more than {self._limit // 1024} KiB")
        return out


def fetch_user_url(url: str, *, timeout_s: float, max_bytes: int = 1024 * 1024) -> tuple[int, dict[str, str], bytes]:
    """GET a URL a person typed (any address, loopback and private ones included: no address policy; no
    redirects followed) under one total deadline and a size bound: status, lowercase headers, body. Never
    for a URL a program or a language model chose: that goes through `identity.fetch.SafeFetcher`. Raises
    FetchFailedError (a ServiceError) when it cannot be had in time or in size: the person chose the URL, so
    whatever it answers past the bounds is the service's failure, not a refused input."""
    try:
        return _fetch_user_url(url, timeout_s, max_bytes)
    except FetchRefusedError as exc:
        raise FetchFailedError(str(exc), reason=exc.reason) from exc


def _fetch_user_url(url: str, timeout_s: float, max_bytes: int) -> tuple[int, dict[str, str], bytes]:
    deadline = time.monotonic() + timeout_s
    with (
        mapped_errors(url, timeout_s),
        httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            network_backend=DeadlineBackend(deadline),
            retries=0,
        ) as pool,
        pool.stream("GET", url, headers={"Accept-Encoding": "gzip, identity"}) as response,
    ):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
        inflate = Inflater(headers.get("content-encoding", "identity"), url, max_bytes)
        body = bytearray()
        for chunk in response.iter_stream():
            body.extend(inflate.feed(chunk))
            if len(body) > max_bytes:
                raise FetchFailedError(f"{url} answered more than {max_bytes // 1024} KiB", reason="too-large")
        return response.status, headers, bytes(body)

"""The provider's HTTP face: a Starlette application over `ReviewProvider`, served by uvicorn.

Routes: `GET /reviews?resource=` (JSON, or the page with `Accept: text/html`) and `?payTo=`,
`GET /attestations/<uid>`, `GET`/`POST /r/<network>:<transaction>` (the `reviews` extension's write link),
the OMATrust relay's `GET /v1/nonce` and `POST /v1/delegated-attest`, and `GET /healthz`. Every refusal
is JSON `{success: false, code, message}`, chosen by one exception handler (`serve.refusals`); bodies are
bounded; each client address has a request rate. The handlers live here at module level and find the
provider on the application's state; what they read from a request is checked in `serve.requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omareview.errors import InputError, OmaReviewError
from omareview.serve.limits import RateLimiter, client_key
from omareview.serve.metrics import CONTENT_TYPE, Metrics
from omareview.serve.page import render_reviews_page
from omareview.serve.provider import MAX_BODY_BYTES, PaymentReviewedError, ReviewProvider
from omareview.serve.refusals import REFUSALS, refusal_of
from omareview.serve.requests import MAX_PAGE, reviews_query

__all__ = ["MAX_HEADERS", "MAX_PAGE", "REFUSALS", "client_key", "create_app"]

MAX_HEADERS = 64
BODY_TIMEOUT_S = 10.0
#: The routes a client's rate and the request metrics apply to (by first path segment).
_METERED = frozenset({"reviews", "attestations", "r", "v1"})
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=5",
    "Vary": "Accept",
    "X-Content-Type-Options": "nosniff",
}
_log = logging.getLogger("omareview.serve")


@dataclass(frozen=True)
class _Served:
    """What the handlers share, on `app.state.served`."""

    provider: ReviewProvider
    metrics: Metrics


def _served(request: Request) -> _Served:
    served: _Served = request.app.state.served
    return served


def _error(status: int, code: str, message: str, retry_after: int | None = None, uid: str | None = None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    body = {"success": False, "code": code, "message": message, **({"uid": uid} if uid else {})}
    return JSONResponse(body, status_code=status, headers=headers)


async def _refused(request: Request, exc: Exception) -> Response:
    """The one place an error becomes an answer (`serve.refusals`)."""
    if not isinstance(exc, OmaReviewError):
        return await _internal_error(request, exc)
    refusal = refusal_of(exc)
    if refusal.internal:
        _log.warning("answered %d %s: %s", refusal.status, refusal.code, exc)
    uid = exc.uid if isinstance(exc, PaymentReviewedError) else None
    return _error(refusal.status, refusal.code, refusal.message, refusal.retry_after, uid)


def _json(document: Any, request: Request, max_age: int = 5) -> Response:
    """JSON with a strong ETag over its bytes; `If-None-Match` that matches gets 304."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return _encoded(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', request, max_age)


def _encoded(body: bytes, tag: str, request: Request, max_age: int = 5) -> Response:
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={max_age}", "Vary": "Accept"}
    if tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


async def _body(request: Request) -> bytes:
    """The request body, refused past MAX_BODY_BYTES without reading more, or when it is not all there
    within BODY_TIMEOUT_S (a client trickling bytes holds a connection and a worker)."""
    declared = request.headers.get("content-length")
    if declared is not None and (
        not (declared.isascii() and declared.isdigit()) or len(declared) > 12 or int(declared) > MAX_BODY_BYTES
    ):
        raise InputError(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB", reason="too-large")

    async def read() -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                raise InputError(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB", reason="too-large")
        return bytes(body)

    try:
        return await asyncio.wait_for(read(), BODY_TIMEOUT_S)
    except TimeoutError:
        raise InputError(f"the body did not arrive within {BODY_TIMEOUT_S:.0f} s", reason="too-slow") from None


def _bounded(app: ASGIApp, max_in_flight: int) -> ASGIApp:
    """Refuse, before the application reads anything, a request with more than MAX_HEADERS headers (431)
    or one past `max_in_flight` requests at once (503); both as JSON. The headers' total size is bounded
    by the server."""
    in_flight = 0

    async def bounded(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if len(scope["headers"]) > MAX_HEADERS:
            refusal = _error(431, "HEADERS_TOO_LARGE", f"at most {MAX_HEADERS} request headers are allowed")
        elif in_flight >= max_in_flight:
            refusal = _error(503, "BUSY", "this provider is answering as many requests as it can", 1)
        else:
            in_flight += 1
            try:
                await app(scope, receive, send)
            finally:
                in_flight -= 1
            return
        await refusal(scope, receive, send)

    return bounded


def _links(request: Request, offset: int, limit: int, total: int) -> tuple[str | None, str | None]:
    def at(start: int) -> str:
        query = {k: v for k, v in request.query_params.items() if k != "offset"}
        return f"{request.url.path}?{urlencode({**query, 'offset': start})}"

    previous = at(max(offset - limit, 0)) if offset > 0 else None
    following = at(offset + limit) if offset + limit < total else None
    return previous, following


async def reviews(request: Request) -> Response:
    """`GET /reviews`: a subject's reviews as JSON (or the page, for `Accept: text/html`), or by `payTo`."""
    provider = _served(request).provider
    query = reviews_query(request.query_params)
    limit, offset, level = query.limit, query.offset, query.min_level
    if query.resource is None:
        pay_to = query.pay_to or ""
        subjects = await run_in_threadpool(provider.subjects_paid_to, pay_to)
        found = [
            (await run_in_threadpool(functools.partial(provider.reviews, s, limit=limit))).to_json()
            for s in subjects[:MAX_PAGE]
        ]
        return _json({"payTo": pay_to.lower(), "subjects": found}, request)
    resource = query.resource
    if "text/html" not in request.headers.get("accept", ""):
        kept = provider.cached_document(resource, limit=limit, offset=offset, min_level=level)
        if kept is None:
            document = functools.partial(
                provider.reviews_document, resource, limit=limit, offset=offset, min_level=level
            )
            kept = await run_in_threadpool(document)
        body, tag = kept
        return _encoded(body, tag, request)
    result = await run_in_threadpool(lambda: provider.reviews(resource, limit=limit, offset=offset, min_level=level))
    previous, following = _links(request, offset, limit, result.total)
    page = render_reviews_page(result, base="", previous=previous, next_page=following)
    return HTMLResponse(page, headers=_PAGE_HEADERS)


async def attestation(request: Request) -> Response:
    """`GET /attestations/<uid>`: one indexed review with its judgement."""
    provider = _served(request).provider
    found = await run_in_threadpool(provider.store.review, request.path_params["uid"].lower())
    if found is None:
        return _error(404, "NOT_FOUND", "no indexed review has this UID")
    return _json(found.to_json(), request, max_age=3600)


async def payment(request: Request) -> Response:
    """`GET`/`POST /r/<network>:<transaction>`: what a payment's review may be, and writing it."""
    provider = _served(request).provider
    key = unquote(request.path_params["payment"])
    if request.method == "GET":
        info = await run_in_threadpool(provider.payment_info, key)
        return _json(info.to_json(), request, max_age=0)
    body = await _body(request)
    written = await run_in_threadpool(provider.write, key, body)
    _log.info("wrote review %s of %s for %s", written.uid, key, written.attester)
    return _json(written.to_json(), request, max_age=0)


async def nonce(request: Request) -> Response:
    """`GET /v1/nonce?attester=`: the attester's EAS nonce, as the OMATrust relay answers it."""
    started = time.monotonic()
    answer = await run_in_threadpool(_served(request).provider.nonce, request.query_params.get("attester", ""))
    return _json({**answer.to_json(), "elapsed": round(time.monotonic() - started, 3)}, request, max_age=0)


async def relay(request: Request) -> Response:
    """`POST /v1/delegated-attest`: relay a paid review, as the OMATrust relay takes it."""
    provider = _served(request).provider
    started = time.monotonic()
    body = await _body(request)
    written = await run_in_threadpool(provider.relay, body)
    _log.info("relayed review %s for %s", written.uid, written.attester)
    answer = {**written.to_json(), "chain": provider.network.name}
    return _json({**answer, "elapsed": round(time.monotonic() - started, 3)}, request, max_age=0)


async def health(request: Request) -> Response:
    """`GET /healthz`: alive, and the block the index is synced to."""
    synced = _served(request).provider.index.synced_to()
    return _json({"status": "ok", "syncedToBlock": synced}, request, max_age=0)


async def exposition(request: Request) -> Response:
    """`GET /metrics`: Prometheus text."""
    metrics = _served(request).metrics
    await run_in_threadpool(metrics.refresh)
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)


ROUTES = [
    Route("/reviews", reviews),
    Route("/attestations/{uid}", attestation),
    Route("/r/{payment:path}", payment, methods=["GET", "POST"]),
    Route("/v1/nonce", nonce),
    Route("/v1/delegated-attest", relay, methods=["POST"]),
    Route("/healthz", health),
    Route("/metrics", exposition),
]


def _metered(app: ASGIApp, per_ip: RateLimiter, metrics: Metrics) -> ASGIApp:
    """Each client address's rate (429 past it, before the application reads anything), and each metered
    request's status and time in the metrics."""

    async def metered(scope: Scope, receive: Receive, send: Send) -> None:
        route = scope["path"].split("/")[1] if scope["type"] == "http" else ""
        if route not in _METERED:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        client = scope.get("client")
        wait = per_ip.allow(client_key(client[0]) if client else "unknown")

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if wait is not None:
                refusal = _error(429, "RATE_LIMITED", "too many requests from this address", int(wait) + 1)
                await refusal(scope, receive, sent)
            else:
                await app(scope, receive, sent)
        finally:
            metrics.observe_request(route, status, time.perf_counter() - started)

    return metered


def create_app(
    provider: ReviewProvider,
    *,
    requests_per_minute: int = 600,
    sync_in_background: bool = True,
    max_in_flight: int = 256,
) -> ASGIApp:
    """The ASGI application over `provider`.

    Parameters:
        provider: reads and writes the reviews.
        requests_per_minute: requests one client address may make per minute.
        sync_in_background: keep the index synced from a thread while the application runs (False when
            `omareview index follow` writes the store and this process only reads it).
        max_in_flight: requests handled at once; more are refused (503 `BUSY`).
    """
    metrics = Metrics(provider.index)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = threading.Thread(target=_follow, args=(provider, stop), name="omareview-sync", daemon=True)
        if sync_in_background:
            thread.start()
        try:
            yield
        finally:
            stop.set()

    application = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers={OmaReviewError: _refused, HTTPException: _http_refusal, Exception: _internal_error},
    )
    application.state.served = _Served(provider, metrics)
    return _bounded(_metered(application, RateLimiter(requests_per_minute, 60.0), metrics), max_in_flight)


async def _http_refusal(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, a method the route does not take) as JSON with a code."""
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
    return _error(status, code, HTTPStatus(status).phrase.lower())


async def _internal_error(request: Request, exc: Exception) -> Response:
    """A bug answers a fixed message; the traceback goes to the operator's log, never to the client."""
    _log.error("answered 500 to %s %s", request.method, request.url.path, exc_info=exc)
    return _error(500, "INTERNAL_ERROR", "the provider failed on its side; try again later")


def _follow(provider: ReviewProvider, stop: threading.Event) -> None:
    """Sync the index every interval until stopped, one progress line per sync that found something."""
    last_block: int | None = None
    while not stop.is_set():
        try:
            block, added, judged = provider.sync()
            if block != last_block and (added or judged or last_block is None):
                _log.info("synced to block %d: %d new review(s), %d subject(s) judged", block, added, judged)
            last_block = block
        except OmaReviewError as exc:
            _log.warning("sync failed (%s); retrying", exc)
        stop.wait(provider.config.sync_interval_s)

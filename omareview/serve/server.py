"""Serving the provider to hostile clients: uvicorn's h11 server with bounds on what one client can hold.

uvicorn alone bounds none of it: its httptools parser takes a header of any size, and a connection that never
finishes its headers is kept forever. Here the pure-Python h11 parser bounds the header block's size; each
connection must send its request's headers within a timeout (re-armed after every response, so an idle
keep-alive connection is closed as well); connections past a cap are closed as they arrive, before they can
use up the process's file descriptors; a malformed request gets a JSON refusal like every other. Forwarded
headers are trusted only when the operator says so, and only from the addresses named. Several worker
processes share one listening socket (each forked with its own application, so its own store connections).
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import resource
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ServerOptions", "run_server"]

_log = logging.getLogger("omareview.serve")


@dataclass(frozen=True)
class ServerOptions:
    """How the provider's HTTP server runs.

    Parameters:
        host: the address to listen on.
        port: the port to listen on.
        workers: processes sharing the listening socket.
        proxy_headers: trust `X-Forwarded-For`/`-Proto` (from `forwarded_allow_ips` only).
        forwarded_allow_ips: the proxies whose forwarded headers are trusted (comma-separated addresses or
            networks; `*` for any). Ignored without `proxy_headers`.
        max_header_bytes: the most bytes a request's line and headers may take.
        header_timeout_s: seconds a connection has to send a request's headers.
        keep_alive_s: seconds an idle keep-alive connection is kept.
        max_connections: open connections per process; more are closed as they arrive.
        access_log: log each request.
        uvicorn_logging: let uvicorn install its own log handlers (access lines on stdout); False leaves its
            records to the process's logging configuration.
    """

    host: str = "127.0.0.1"
    port: int = 8480
    workers: int = 1
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    max_header_bytes: int = 16 * 1024
    header_timeout_s: float = 10.0
    keep_alive_s: float = 5.0
    max_connections: int = 512
    access_log: bool = True
    uvicorn_logging: bool = True


def _guarded_protocol(options: ServerOptions) -> type[H11Protocol]:
    class GuardedH11(H11Protocol):
        """h11 with a header-read deadline, a connection cap and JSON refusals."""

        _deadline: asyncio.TimerHandle | None = None
        _head = 0
        _tail = b""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > options.max_connections:
                self.connections.discard(self)
                transport.abort()
                return
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(options.header_timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.abort()

        def data_received(self, data: bytes) -> None:
            # h11 bounds only a header block that arrives in pieces; one that arrives whole is counted here.
            if self.conn.their_state is h11.IDLE:
                end = (self._tail + data).find(b"\r\n\r\n")
                seen = self._head + (end + 4 - len(self._tail) if end >= 0 else len(data))
                if seen > options.max_header_bytes:
                    self._refuse(431, "HEADERS_TOO_LARGE", "the request's headers are too large")
                    return
                self._head, self._tail = (0, b"") if end >= 0 else (seen, data[-3:])
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            self._refuse(400, "BAD_REQUEST", msg)

        def _refuse(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"success": False, "code": code, "message": message}).encode()
            head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
            head += f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            self.transport.write(head.encode() + body)
            self.transport.close()

    return GuardedH11


def _config(app: ASGIApp, options: ServerOptions) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        http=_guarded_protocol(options),
        h11_max_incomplete_event_size=options.max_header_bytes,
        timeout_keep_alive=max(int(options.keep_alive_s), 1),
        proxy_headers=options.proxy_headers,
        forwarded_allow_ips=options.forwarded_allow_ips if options.proxy_headers else "",
        server_header=False,
        log_level="info",
        access_log=options.access_log,
        log_config=uvicorn.config.LOGGING_CONFIG if options.uvicorn_logging else None,
    )


def _raise_file_limit() -> None:
    """Let the process hold as many descriptors as the system allows it (the cap closes the rest)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
        except (ValueError, OSError):
            _log.warning("could not raise the open-file limit from %d", soft)


def run_server(make_app: Callable[[int], ASGIApp], options: ServerOptions) -> None:
    """Serve until stopped. `make_app(n)` builds worker n's application, in the process that serves it."""
    _raise_file_limit()
    if options.workers == 1:
        uvicorn.Server(_config(make_app(0), options)).run()
        return
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    listening = socket.create_server((options.host, options.port), family=family, backlog=2048)
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_worker, args=(make_app, n, options, listening), name=f"omareview-serve-{n}")
        for n in range(options.workers)
    ]
    for worker in workers:
        worker.start()

    def stop(*_: Any) -> None:
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.join()
    listening.close()


def _worker(make_app: Callable[[int], ASGIApp], n: int, options: ServerOptions, listening: socket.socket) -> None:
    parent = os.getppid()

    def orphaned() -> None:
        # A parent killed outright (SIGKILL) cannot stop its workers: each stops itself once it is gone.
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=orphaned, name="omareview-orphan-watch", daemon=True).start()
    uvicorn.Server(_config(make_app(n), options)).run(sockets=[listening])

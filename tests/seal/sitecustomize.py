"""The test suite's seal: no DNS query to the system resolver, no connection off loopback.

Installed in the test process by conftest and, through PYTHONPATH, in every Python subprocess the tests
start. An attempt raises OSError where it happens and is appended to `$OMAREVIEW_SEAL_LOG`, which the
suite checks after every test, so an escape fails the test even when the code under test swallows it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Any

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_original_getaddrinfo = socket.getaddrinfo
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_sendto = socket.socket.sendto


def _is_loopback(host: object) -> bool:
    if host is None or host == "":
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    if text.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _escape(what: str) -> OSError:
    log = os.environ.get("OMAREVIEW_SEAL_LOG")
    if log:
        with Path(log).open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {what}\n")
    return OSError(f"sealed test suite: {what} refused")


def _is_literal(host: object) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """Names other than loopback ones would go to the system resolver; address literals need no look-up
    (their connections are checked where they are made)."""
    if not _is_loopback(host) and not _is_literal(host):
        raise _escape(f"DNS look-up of {host!r}")
    return _original_getaddrinfo(host, *args, **kwargs)


def _check(sock: socket.socket, address: Any, verb: str) -> None:
    inet = sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
    if inet and not _is_loopback(address[0]):
        raise _escape(f"{verb} to {address[0]}:{address[1]}")


def _connect(self: socket.socket, address: Any) -> None:
    _check(self, address, "connection")
    _original_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address, "connection")
    return _original_connect_ex(self, address)


def _sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check(self, args[-1], "datagram")
    return _original_sendto(self, data, *args)


def install() -> None:
    socket.getaddrinfo = _getaddrinfo
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = _sendto  # type: ignore[method-assign,assignment]


if os.environ.get("OMAREVIEW_SEAL_LOG"):
    install()

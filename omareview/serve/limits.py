"""Abuse limits of a provider process: request rates per key and the relayer's gas budget.

Both are kept in memory, per process: they bound what one process spends, which is what a relayer key
held by that process can lose. Several processes behind one store each keep their own.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["GasBudget", "RateLimiter", "client_key"]

_MAX_KEYS = 100_000


def client_key(address: str) -> str:
    """The rate-limit bucket of a client address: an IPv4 address alone, an IPv6 address by its /64 (one
    subscriber holds a whole /64, so per-address buckets would be unlimited)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class RateLimiter:
    """A token bucket per key (an IP address, a payer): `rate` requests per `per_s` seconds, bursts up to
    `rate`. The least recently seen keys are forgotten beyond 100,000.

    Parameters:
        rate: requests allowed per window.
        per_s: the window, in seconds.
        clock: the time source (monotonic seconds).
    """

    rate: int
    per_s: float
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str) -> float | None:
        """None when `key` may go on (and a token is spent); else the seconds until it may."""
        now = self.clock()
        with self._lock:
            tokens, seen = self._buckets.pop(key, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - seen) * self.rate / self.per_s)
            wait = None if tokens >= 1 else (1 - tokens) * self.per_s / self.rate
            self._buckets[key] = (tokens - 1 if wait is None else tokens, now)
            while len(self._buckets) > _MAX_KEYS:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class GasBudget:
    """The gas the relayer may spend per window. Each send first reserves the gas it was estimated to need;
    a send whose reservation would pass the window's budget (spent plus reserved) is refused before it is
    signed, so requests in flight at once can never together overspend it.

    Parameters:
        gas: gas allowed per window.
        per_s: the window, in seconds.
        clock: the time source (monotonic seconds).
    """

    gas: int
    per_s: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _spent: dict[int, tuple[float, int]] = field(default_factory=dict)
    _tickets: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _in_window(self, now: float) -> int:
        self._spent = {key: (at, gas) for key, (at, gas) in self._spent.items() if now - at < self.per_s}
        return sum(gas for _, gas in self._spent.values())

    def take(self, gas: int) -> int | None:
        """Reserve `gas` for one send: a ticket to settle, or None when the budget has no room for it."""
        now = self.clock()
        with self._lock:
            if self._in_window(now) + gas > self.gas:
                return None
            ticket = next(self._tickets)
            self._spent[ticket] = (now, gas)
            return ticket

    def settle(self, ticket: int, used: int) -> None:
        """Replace a reservation by the gas the send really used (0: it was not sent)."""
        with self._lock:
            if ticket in self._spent:
                self._spent[ticket] = (self._spent[ticket][0], used)

    def left(self) -> int:
        """Gas still free in the current window."""
        with self._lock:
            return max(self.gas - self._in_window(self.clock()), 0)

"""Abuse limits of a provider process: request rates per key and the relayer's gas budget.

Both are kept in memory, per process: they bound what one process spends, which is what a relayer key
held by that process can lose. Several processes behind one store each keep their own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["GasBudget", "RateLimiter"]

_MAX_KEYS = 100_000


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
    """The gas the relayer may spend per window; a request is refused before sending when the window's
    spending (plus what is reserved for sends in flight) would pass it.

    Parameters:
        gas: gas allowed per window.
        per_s: the window, in seconds.
        reserve: the gas one send reserves until it reports what it used.
        clock: the time source (monotonic seconds).
    """

    gas: int
    per_s: float = 3600.0
    reserve: int = 500_000
    clock: Callable[[], float] = time.monotonic
    _spent: list[tuple[float, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _in_window(self, now: float) -> int:
        self._spent = [(at, gas) for at, gas in self._spent if now - at < self.per_s]
        return sum(gas for _, gas in self._spent)

    def take(self) -> bool:
        """Reserve gas for one send; False when the budget is spent."""
        now = self.clock()
        with self._lock:
            if self._in_window(now) + self.reserve > self.gas:
                return False
            self._spent.append((now, self.reserve))
            return True

    def settle(self, used: int) -> None:
        """Replace one reservation by the gas the send really used (0: it was not sent)."""
        with self._lock:
            for index, (at, gas) in enumerate(self._spent):
                if gas == self.reserve:
                    self._spent[index] = (at, used)
                    break

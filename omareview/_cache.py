"""The one cache primitive: bounded, each entry with its own lifetime, safe across threads.

A long-lived process (`serve`, `index follow`, a gate in an agent runtime) must not keep an answer from
outside forever: a rotated key would stay authorized and one DNS timeout stay "unknown" until a restart.
Each entry therefore expires (failures sooner than answers), and the least recently used go beyond the bound.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["ExpiringCache"]

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class ExpiringCache(Generic[K, V]):
    """A bounded LRU map whose entries expire.

    Parameters:
        ttl_s: how long an entry is kept.
        max_entries: the bound; the least recently used entries go first.
        clock: the time source (monotonic seconds).
    """

    ttl_s: float
    max_entries: int = 4096
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[K, tuple[float, V]] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: K) -> V | None:
        """The live entry for `key`, else None (an expired one is dropped)."""
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: K, value: V, ttl_s: float | None = None) -> None:
        """Keep `value` for `ttl_s` seconds (default: the cache's)."""
        expires = self.clock() + (self.ttl_s if ttl_s is None else ttl_s)
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

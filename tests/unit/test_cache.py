"""The one cache primitive: entries expire (each with its own lifetime) and the bound holds."""

from __future__ import annotations

from omareview._cache import ExpiringCache
from tests.helpers import Clock


def test_entries_expire_each_after_its_own_lifetime() -> None:
    clock = Clock(100.0)
    cache: ExpiringCache[str, str] = ExpiringCache(ttl_s=10, clock=clock)
    cache.put("answer", "yes")
    cache.put("failure", "timeout", ttl_s=2)
    clock.now += 3
    assert cache.get("answer") == "yes" and cache.get("failure") is None
    clock.now += 8
    assert cache.get("answer") is None and len(cache) == 0


def test_the_least_recently_used_go_beyond_the_bound() -> None:
    cache: ExpiringCache[int, int] = ExpiringCache(ttl_s=60, max_entries=3)
    for key in range(3):
        cache.put(key, key)
    assert cache.get(0) == 0
    cache.put(3, 3)
    assert [cache.get(key) for key in range(4)] == [0, None, 2, 3]

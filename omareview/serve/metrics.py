"""Prometheus metrics of a provider or a follower (`prometheus-client`), each process with a registry of
its own: the indexed block, the lag behind the head, the reviews held, requests and their latency."""

from __future__ import annotations

import time
from typing import Any

from omareview.errors import ChainError
from omareview.index.follow import FollowRound
from omareview.index.query import ReviewIndex

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_HEAD_TTL_S = 5.0


class Metrics:
    """The metrics one process exposes.

    Parameters:
        index: the index whose block, lag and size are reported.
    """

    def __init__(self, index: ReviewIndex) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.index = index
        self.registry = CollectorRegistry()
        self.indexed_block = Gauge(
            "omareview_indexed_block", "The block the index is synced to.", registry=self.registry
        )
        self.lag = Gauge(
            "omareview_lag_blocks", "How many blocks the index is behind the head.", registry=self.registry
        )
        self.reviews = Gauge("omareview_reviews", "Reviews held in the index.", registry=self.registry)
        self.requests = Counter(
            "omareview_requests", "HTTP requests answered.", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "omareview_request_seconds",
            "Time to answer an HTTP request.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self._head: tuple[float, int] | None = None
        self._counted = False

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_round(self, done: FollowRound) -> None:
        """A follower's round: its block and the lag it found; the reviews are counted again only when the
        round changed them (a count is a scan of the whole table)."""
        self.indexed_block.set(done.to_block)
        self.lag.set(done.lag)
        if done.added or done.removed or not self._counted:
            self.reviews.set(self.index.store.count())
            self._counted = True

    def refresh(self) -> None:
        """Read the index's block and size, and the head (at most every few seconds), for a scrape."""
        synced = self.index.synced_to()
        if synced is not None:
            self.indexed_block.set(synced)
        self.reviews.set(self.index.store.count())
        now = time.monotonic()
        if self._head is None or now - self._head[0] > _HEAD_TTL_S:
            try:
                self._head = (now, self.index.rpc.block_number())
            except ChainError:
                return
        if synced is not None:
            self.lag.set(max(0, self._head[1] - synced))

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        data: Any = generate_latest(self.registry)
        return bytes(data)

"""Finding a settlement no review names: the block-time search the payment checker runs, on a simulated
chain of a million blocks (no node needed), and how many round trips it costs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from omareview.networks import PaymentNetwork
from omareview.review.payment import EvmPaymentChecker


class Chain:
    """A chain's block times as a node would answer them, counting round trips (a batch is one)."""

    def __init__(self, times: list[int]) -> None:
        self.times = times
        self.round_trips = 0

    def _block(self, tag: str) -> dict[str, str] | None:
        number = len(self.times) - 1 if tag == "latest" else int(tag, 16)
        if number >= len(self.times):
            return None
        return {"number": hex(number), "timestamp": hex(self.times[number])}

    def call(self, method: str, params: Sequence[Any]) -> Any:
        self.round_trips += 1
        return self._block(params[0])

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        self.round_trips += 1
        return [self._block(params[0]) for _, params in calls]


def test_the_block_time_search_brackets_each_time_in_few_round_trips() -> None:
    rng = random.Random(27)
    times, now = [], 1_700_000_000
    for _ in range(1_000_000):
        now += rng.choice([1, 2, 2, 2, 3, 12])
        times.append(now)
    chain = Chain(times)
    checker = EvmPaymentChecker({"eip155:8453": PaymentNetwork("http://127.0.0.1:9")})
    head = len(times) - 1
    targets = [times[0] - 5, times[123_456] + 1, times[777_777], times[head] + 50]
    bounds = checker._block_bounds(chain, "eip155:8453", targets, head)  # type: ignore[arg-type]
    for t in targets:
        lo, hi = bounds[t]
        assert hi - lo <= 512 or lo == 0, "narrow enough for one log query"
        first = next((n for n, at in enumerate(times) if at >= t), head + 1)
        assert lo <= first <= hi and (lo == 0 or times[lo] < t)
    print(f"round trips for 4 targets over 1,000,000 blocks: {chain.round_trips}")
    assert chain.round_trips <= 24, chain.round_trips

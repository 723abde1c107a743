"""How many attestations one `multiAttest` carries under the per-transaction gas cap.

A per-review gas model (gas per byte of data, plus a fixed part per attestation, learnt from the last
estimate) picks the size; one estimate checks it. Only when the model overshoots is the size halved until it
fits. The estimate itself is the caller's (a node round trip), so the sizing is tested without one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from omareview.eas._tx import GAS_MARGIN, TX_GAS_CAP
from omareview.eas.abi import RequestData
from omareview.errors import InputError

__all__ = ["FIXED_WEIGHT", "BatchSizer", "Estimate"]

#: The fixed cost of one attestation (its record's storage slots) in bytes of data that cost the same.
FIXED_WEIGHT = 256

#: The gas one multiAttest of these requests takes (with the send margin), or None when over the cap.
Estimate = Callable[[Sequence[RequestData]], "int | None"]


class BatchSizer:
    """Sizes batches for one client, learning its gas per byte of data as it goes."""

    def __init__(self) -> None:
        self.gas_per_weight: float | None = None

    def largest_fitting_prefix(self, requests: Sequence[RequestData], estimate: Estimate) -> tuple[int, int]:
        """How many of `requests` one multiAttest carries under the cap, and its estimated gas."""
        limit = TX_GAS_CAP / GAS_MARGIN
        weights = [len(r.data) + FIXED_WEIGHT for r in requests]
        if self.gas_per_weight is None:
            single = estimate(requests[:1])
            if single is None:
                raise _too_big()
            self.gas_per_weight = single / weights[0]
        size, total = 0, 0
        for weight in weights:
            if (total + weight) * self.gas_per_weight > limit:
                break
            size, total = size + 1, total + weight
        size = max(size, 1)
        while True:
            gas = estimate(requests[:size])
            if gas is not None:
                self.gas_per_weight = gas / sum(weights[:size])
                return size, gas
            if size == 1:
                raise _too_big()
            size = max(1, size // 2)


def _too_big() -> InputError:
    return InputError("one attestation alone needs more gas than a transaction may use", reason="attestation-failed")

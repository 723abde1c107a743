"""Batch sizing under the gas cap is a pure function of the estimates it is given (the real ones come from a
node, on the devnet, in the integration tests)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from omareview.eas._batching import FIXED_WEIGHT, BatchSizer, Estimate
from omareview.eas._tx import GAS_MARGIN, TX_GAS_CAP
from omareview.eas.abi import ZERO_UID, RequestData
from omareview.errors import InputError


def _requests(*sizes: int) -> list[RequestData]:
    return [RequestData("0x" + "11" * 20, 0, False, ZERO_UID, b"x" * size, 0) for size in sizes]


def _priced(per_weight: float, extra_over: int | None = None) -> tuple[list[int], Estimate]:
    """An estimate at `per_weight` gas per unit of weight (refusing batches larger than `extra_over`), and
    the sizes it was asked about."""
    asked: list[int] = []

    def estimate(batch: Sequence[RequestData]) -> int | None:
        asked.append(len(batch))
        if extra_over is not None and len(batch) > extra_over:
            return None
        gas = int(per_weight * sum(len(r.data) + FIXED_WEIGHT for r in batch))
        return gas if gas * GAS_MARGIN <= TX_GAS_CAP else None

    return asked, estimate


def test_the_model_sizes_a_batch_to_the_cap_with_one_check() -> None:
    per_weight = 100.0
    fits = int(TX_GAS_CAP / GAS_MARGIN / per_weight / (1000 + FIXED_WEIGHT))
    asked, estimate = _priced(per_weight)
    sizer = BatchSizer()
    size, gas = sizer.largest_fitting_prefix(_requests(*[1000] * (fits + 50)), estimate)
    assert size == fits and gas * GAS_MARGIN <= TX_GAS_CAP
    assert asked == [1, fits], "one estimate to learn, one to check"
    asked.clear()
    assert sizer.largest_fitting_prefix(_requests(*[1000] * 3), estimate)[0] == 3
    assert asked == [3], "a learnt model needs only the check"


def test_an_overshooting_model_halves_until_it_fits_and_one_too_big_is_refused() -> None:
    asked, estimate = _priced(1.0, extra_over=5)
    size, _ = BatchSizer().largest_fitting_prefix(_requests(*[10] * 40), estimate)
    assert size == 5 and asked == [1, 40, 20, 10, 5]
    _, huge = _priced(float(TX_GAS_CAP))
    with pytest.raises(InputError, match="one attestation alone needs more gas"):
        BatchSizer().largest_fitting_prefix(_requests(10), huge)

"""Documented configuration keys take effect: `store` in config.toml, and the policy's
`sync_timeout_seconds` bounds the sync the gate makes before a decision."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from omareview.errors import ChainError, ConfigError
from omareview.index.engines import store_url


def test_the_store_key_of_config_toml_is_accepted_and_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMAREVIEW_STORE", raising=False)
    (tmp_path / "config.toml").write_text('store = "postgresql://reader@127.0.0.1:5432/reviews"\n')
    assert store_url(home=tmp_path) == "postgresql://reader@127.0.0.1:5432/reviews"
    assert store_url("postgresql://other@127.0.0.1/x", home=tmp_path) == "postgresql://other@127.0.0.1/x"


def test_a_typo_in_config_toml_is_still_named(tmp_path: Path) -> None:
    from omareview._home import load_config

    (tmp_path / "config.toml").write_text('stores = "postgresql://reader@127.0.0.1/reviews"\n')
    with pytest.raises(ConfigError, match="unknown key 'stores'"):
        load_config(tmp_path)


def test_the_gate_s_sync_stops_at_the_policy_s_timeout() -> None:
    from omareview.gate.decide import _within

    check = _within(0.05)
    check(10, 100)
    time.sleep(0.06)
    with pytest.raises(ChainError, match="stopped at block 20 of 100 after 0.05 s") as raised:
        check(20, 100)
    assert raised.value.reason == "sync-timeout"


def test_cost_to_move_counted_by_hand() -> None:
    from omareview.index.query import cost_to_move

    # Four 5-star reviews: no 5-star review moves them up; down to 4.5 takes k with (20 + k) / (4 + k) <= 4.5,
    # k >= 0.57: one 1-star review.
    four = cost_to_move([5, 5, 5, 5], [(7, "0xasset"), (3, "0xasset")])
    assert four is not None and (four.reviews, four.direction, four.amount) == (1, "down", "3")
    # Ten reviews averaging 3.0: up needs (30 + 5k) / (10 + k) >= 3.5, k >= 3.33: four; down the same.
    ten = cost_to_move([3] * 10, [])
    assert ten is not None and ten.reviews == 4 and ten.amount is None
    assert cost_to_move([], [(5, "0xa")]) is not None, "no reviews: one sets the average"
